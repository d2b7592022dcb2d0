"""``python -m inventory.cli``: the ``inventory`` command."""

import sys

from inventory.cli.main import main

sys.exit(main())
