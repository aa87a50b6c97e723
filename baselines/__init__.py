"""The baselines shipped with the package (``<budget>.json``, results files of ``scb-verify
check --json``), installed as package data of ``scb_verify.baselines``: the regression gate's
default (``scb-verify check --baseline`` without FILE, ``pytest --scb-baseline=shipped``; read by
:func:`scb_verify.session.load_baseline` through importlib.resources, from a checkout and a wheel
alike). Regenerate one with ``scb-verify check --budget ci --jobs 2 --json baselines/ci.json``.
"""
