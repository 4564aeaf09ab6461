"""The web server: event archive pages, Atom feed, metrics, health and the webhook."""
