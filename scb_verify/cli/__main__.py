"""``python -m scb_verify.cli``: the ``scb-verify`` command."""

import sys

from scb_verify.cli import main

sys.exit(main())
