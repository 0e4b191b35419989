"""``python -m portier`` is the ``portier`` command."""

import sys

from .cli import main

sys.exit(main())
