"""``python -m streams.cli``: the same as the ``streamgate`` console script."""

import sys

from streams.cli.main import main

sys.exit(main())
