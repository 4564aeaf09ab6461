"""Fixtures for the feed-ingestion tests.

`feed_server` comes from tests.feedserver, registered as a plugin in tests/conftest.py.
"""
