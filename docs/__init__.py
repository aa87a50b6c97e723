"""The project's documents (``*.md``), installed as package data of ``scb_verify.docs``.

Read them the same way from a checkout and from an installed wheel:
``importlib.resources.files("scb_verify.docs").joinpath("reference.md").read_text("utf-8")``.
"""
