"""The fake's fixtures for its own tests.

Imported rather than declared with pytest_plugins: pytest refuses pytest_plugins outside the
top-level conftest. The suite-wide registration lives in tests/conftest.py.
"""

from tests.fakebot.fixtures import fake_bot, fake_telegram

__all__ = ["fake_bot", "fake_telegram"]
