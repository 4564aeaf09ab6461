"""`python -m bot` is the same as `coopwatch`."""

import sys

from bot.cli import main

sys.exit(main())
