"""Package discovery for setuptools (the metadata lives in pyproject.toml).

The installed package ``scb_verify`` is assembled from five folders: ``scb_verify/`` itself,
``plugins/`` (installed as ``scb_verify.plugins``), ``claims/`` (``scb_verify.claims``),
``docs/`` (``scb_verify.docs``, whose Markdown documents ship as package data) and
``baselines/`` (``scb_verify.baselines``, the results files the regression gate uses by
default, package data). Every package
below each folder is discovered, so a new subpackage cannot be left out.
"""

from setuptools import find_packages, setup

ROOTS = {
    "scb_verify": "scb_verify",
    "scb_verify.plugins": "plugins",
    "scb_verify.claims": "claims",
    "scb_verify.docs": "docs",
    "scb_verify.baselines": "baselines",
}

setup(
    package_dir=ROOTS,
    packages=[
        f"{package}.{sub}" if sub else package
        for package, folder in ROOTS.items()
        for sub in ["", *find_packages(folder)]
    ],
    package_data={"scb_verify.docs": ["*.md"], "scb_verify.baselines": ["*.json"]},
)
