"""What a claim costs its author: lines and imports of the built-in claims and of the plugin
guide's third-party claim, at a baseline revision and in the working tree, with their ratios.

    python benchmarks/claim_size.py [--baseline REV]

Per claim module (``claims/c*.py``), from its syntax tree:

- ``measure``: code lines of the claim's ``measure`` method (blank lines, comments and its
  docstring not counted);
- ``grid``: code lines that declare the claim's parameters: the ``grids = …`` assignment and the
  claim's ``Grid`` subclass, if it has one;
- ``import stmts`` / ``import names`` / ``import lines``: top-level import statements (without
  ``from __future__``), the names they bind and the lines they span as formatted;
- ``module``: code lines of the whole module.

The guide's claim is the code block after "A third-party claim with a falsifier:" in
docs/plugin-guide.md (measured the same way, ``measure`` being its claim's method). Numbers are
means over the 8 built-in claims. The baseline defaults to 7f79201, the code issue 12 (the
claim/results seam) was written against; its guide had no complete claim (shown as n/a).
"""

from __future__ import annotations

import argparse
import ast
import io
import statistics
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = "docs/plugin-guide.md"
GUIDE_MARK = "A third-party claim with a falsifier:"
METRICS = ("measure", "grid", "import stmts", "import names", "import lines", "module")


def read(rev: str | None, path: str) -> str:
    """``path`` at ``rev`` (None: the working tree)."""
    if rev is None:
        return (ROOT / path).read_text()
    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def claim_paths(rev: str | None) -> list[str]:
    if rev is None:
        return sorted(f"claims/{p.name}" for p in (ROOT / "claims").glob("c*.py"))
    out = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "claims/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(p for p in out.split() if Path(p).name.startswith("c") and p.endswith(".py"))


def code_lines(source: str) -> set[int]:
    """Line numbers that hold code (not blank, not only a comment)."""
    lines: set[int] = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (*skip, tokenize.ENDMARKER):
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines


def span(node: ast.AST, code: set[int], docstring: bool = False) -> int:
    """Code lines of ``node`` (without a function's docstring when ``docstring``)."""
    lines = set(range(node.lineno, node.end_lineno + 1)) & code
    if docstring and isinstance(node, ast.FunctionDef) and ast.get_docstring(node) is not None:
        doc = node.body[0]
        lines -= set(range(doc.lineno, doc.end_lineno + 1))
    return len(lines)


def measure_module(source: str) -> dict[str, int]:
    tree, code = ast.parse(source), code_lines(source)
    imports = [
        n
        for n in tree.body
        if isinstance(n, ast.Import | ast.ImportFrom)
        and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")
    ]
    out = {
        "import stmts": len(imports),
        "import names": sum(len(n.names) for n in imports),
        "import lines": sum(n.end_lineno - n.lineno + 1 for n in imports),
        "module": len(code),
        "measure": 0,
        "grid": 0,
    }
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {ast.unparse(b).split("[")[0] for b in node.bases}
        if "Grid" in bases:
            out["grid"] += span(node, code)
        if "Claim" not in bases:
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "measure":
                out["measure"] += span(item, code, docstring=True)
            targets = item.targets if isinstance(item, ast.Assign) else []
            if any(getattr(t, "id", "") == "grids" for t in targets):
                out["grid"] += span(item, code)
    return out


def guide_claim(rev: str | None) -> str | None:
    """The guide's complete third-party claim at ``rev`` (None if it had none)."""
    guide = read(rev, GUIDE)
    if GUIDE_MARK not in guide:
        return None
    start = guide.index("```python", guide.index(GUIDE_MARK)) + len("```python")
    return guide[start : guide.index("```", start)]


def table(rev: str | None) -> tuple[dict[str, float], dict[str, int] | None]:
    """(mean over the built-in claims, the guide's claim or None) at ``rev``."""
    per_claim = [measure_module(read(rev, p)) for p in claim_paths(rev)]
    means = {m: statistics.mean(c[m] for c in per_claim) for m in METRICS}
    guide = guide_claim(rev)
    return means, None if guide is None else measure_module(guide)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--baseline",
        default="7f79201",
        help="git revision to compare with (default: 7f79201, before the claim/results seam)",
    )
    args = parser.parse_args()
    before, guide_before = table(args.baseline)
    after, guide_after = table(None)
    print(f"{'':24}{'baseline':>10}{'now':>10}{'ratio':>8}")
    rows = (("built-ins (mean of 8)", before, after), ("guide's claim", guide_before, guide_after))
    for title, old, new in rows:
        print(title)
        for m in METRICS:
            was = "n/a" if old is None else f"{old[m]:.1f}"
            now = "n/a" if new is None else f"{new[m]:.1f}"
            ratio = "" if old is None or new is None or not old[m] else f"{new[m] / old[m]:.2f}"
            print(f"  {m:22}{was:>10}{now:>10}{ratio:>8}")


if __name__ == "__main__":
    main()
