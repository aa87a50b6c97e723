"""The project's reference (docs/reference.md): the package reads that file, every
``§N`` the repository cites names an existing section, and
``scb-verify claims --explain`` shows each built-in claim with its section."""

import re
from pathlib import Path

import pytest

from scb_verify import reference
from scb_verify.cli import main
from scb_verify.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
DOCS_COPY = ROOT / reference.SOURCE
THIS = Path(__file__).resolve()
SKIP_DIRS = {".git", ".venv", "build", "dist", "__pycache__", ".hypothesis", "results"}
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml"}

_NUMBER = re.compile(r"§(\d+(?:\.\d+)*)")


def repository_files():
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts):
            continue
        if path.is_file() and path.suffix in SUFFIXES and path != THIS:
            yield rel, path.read_text(encoding="utf-8", errors="replace")


def test_the_package_reads_docs_reference_md():
    assert reference.text() == DOCS_COPY.read_text(encoding="utf-8")


def test_every_section_reference_in_the_repository_names_an_existing_section():
    """Every "§N" in the repository's code and docs (``docs/reference.md §N`` citations, also
    wrapped over lines, and the bare "§4 metric" of docstrings) is a section of the reference."""
    cited, citing_files = {}, 0
    for rel, text in repository_files():
        citing_files += "reference.md §" in " ".join(text.split())
        for number in _NUMBER.findall(text):
            cited.setdefault(number, set()).add(str(rel))
    assert citing_files, "no docs/reference.md citation found: the scan is broken"
    missing = {f"§{n}": sorted(f) for n, f in cited.items() if n not in reference.sections()}
    assert not missing, f"sections docs/reference.md does not have: {missing}"


def test_cross_references_inside_the_reference_resolve():
    refs = set(_NUMBER.findall(reference.text()))
    assert refs
    assert refs <= set(reference.sections()), refs - set(reference.sections())


def test_the_reference_keeps_the_numbering_of_sections_0_to_7():
    sections = reference.sections()
    assert [n for n in sections if "." not in n] == [str(i) for i in range(8)]
    for sub in ("5.1", "5.2", "5.3", "5.4", "5.5"):
        assert sub in sections


def test_a_section_runs_to_the_next_heading_of_its_level():
    five = reference.section("§5").text
    one = reference.section("5.1").text
    assert one in five and "### §5.2" in five
    assert one.startswith("### §5.1 ") and "§5.2 SGD" not in one
    assert "#### §5.1.5" in one
    with pytest.raises(KeyError, match="no section §9"):
        reference.section("9")


@pytest.mark.parametrize("claim_id", sorted(load_registry().claims))
def test_explain_shows_statement_bounds_grids_and_section(claim_id, capsys):
    claim = load_registry().claim(claim_id)
    assert main(["claims", "--explain", claim_id]) == 0
    out = capsys.readouterr().out
    section = reference.claim_section(claim_id)
    assert section is not None, f"docs/reference.md has no §6 subsection titled {claim_id}"
    assert section.text in out
    assert claim.statement in out
    for name in claim.bounds:
        assert f"{name}:" in out
    assert f"negative control: {claim.control}" in out
    for budget in claim.grids:
        assert f"grid {budget}: " in out


def test_explain_of_an_unknown_claim_is_one_line_and_exit_2(capsys):
    assert main(["claims", "--explain", "C99"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "unknown claim 'C99'" in lines[0] and "C1" in lines[0]
