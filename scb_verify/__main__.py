"""``python -m scb_verify``: the command line, as the ``scb-verify`` script runs it."""

from scb_verify.cli import script

script()
