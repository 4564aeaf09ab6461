"""The Telegram-free core: fetch, parse, classify, group into events, summarise.

Nothing in this package imports telegram or the database layer; it passes typed records.
"""
