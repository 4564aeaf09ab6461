"""The Telegram-free application: `coopwatch.app.open_coopwatch(settings)` builds it."""
