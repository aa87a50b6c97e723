"""The project's mathematical reference, ``docs/reference.md``, as installed with the package.

``docs/`` is installed as the package ``scb_verify.docs`` with its Markdown files as package
data (setup.py), so the same file is read from a checkout and from an installed wheel
(``scb-verify claims --explain C4``).

Sections are the headings numbered ``§N``, ``§N.M``, … (``## §3 Loss …``, ``### §5.1 …``). A
section's text runs from its heading to the next heading of the same or a higher level, so it
includes its subsections. Light module: no torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: Where the reference lives in the repository (what citations in docstrings name).
SOURCE = "docs/reference.md"

_HEADING = re.compile(r"^(#{2,6}) §(\d+(?:\.\d+)*) +(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Section:
    """One numbered section: ``number`` (``"5.1"``), ``title`` and ``text`` (its heading line
    and body, subsections included)."""

    number: str
    title: str
    text: str


@cache
def text() -> str:
    """The whole reference, read from the package."""
    return resources.files("scb_verify.docs").joinpath("reference.md").read_text(encoding="utf-8")


@cache
def sections() -> dict[str, Section]:
    """Every numbered section, by number, in document order."""
    doc = text()
    heads = list(_HEADING.finditer(doc))
    out = {}
    for i, head in enumerate(heads):
        level = len(head.group(1))
        end = next((h.start() for h in heads[i + 1 :] if len(h.group(1)) <= level), len(doc))
        number, title = head.group(2), head.group(3).strip()
        out[number] = Section(number, title, doc[head.start() : end].rstrip() + "\n")
    return out


def section(number: str) -> Section:
    """The section ``number`` (``"5.1"`` or ``"§5.1"``); KeyError names the top-level ones."""
    key = number.removeprefix("§")
    found = sections().get(key)
    if found is None:
        top = ", ".join(f"§{n}" for n in sections() if "." not in n)
        raise KeyError(f"{SOURCE} has no section §{key}; its sections are {top} and their parts")
    return found


def claim_section(claim_id: str) -> Section | None:
    """The §6 subsection whose title starts with ``claim_id`` (``"C4"``), or None: a claim
    from another plugin documents itself."""
    for number, sec in sections().items():
        if number.startswith("6.") and sec.title.split()[0] == claim_id:
            return sec
    return None
