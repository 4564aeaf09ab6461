"""The Telegram surface: thin async handlers, one module per feature."""
