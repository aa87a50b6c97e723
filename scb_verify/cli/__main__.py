"""``python -m scb_verify.cli``: the ``scb-verify`` command."""

from scb_verify.cli import script

script()
