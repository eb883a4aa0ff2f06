"""``python -m hudtranslate``."""

import sys

from hudtranslate.cli import main

sys.exit(main())
