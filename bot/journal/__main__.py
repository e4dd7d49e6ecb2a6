"""``python -m bot.journal ...``: see ``bot.journal.cli``."""

import sys

from bot.journal.cli import main

sys.exit(main())
