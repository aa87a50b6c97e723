"""``scb-verify report``: Markdown and figures from synthetic and real results files."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from synthetic_results import claim, failing, passing, scaling, write

from scb_verify.report import _math_title, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def curve(samples, **metrics):
    return {"samples": list(samples), **{k: list(v) for k, v in metrics.items()}}


def synthetic_reports():
    s = np.array([0, 16, 64, 256, 1024, 4096])
    falling = np.exp(-s / 2000.0)
    rising = 1 - 0.9 * np.exp(-s / 500.0)
    return [
        claim("C1", [passing(), passing()]),
        claim(
            "C3",
            [passing(), scaling(0.8)],
            artifacts={
                "correlation_curves": {
                    str(t): {"samples": list(s * k), "correlation": list(rising), "batch": 32 * k}
                    for k, t in ((1, 32), (2, 64), (4, 128))
                }
            },
        ),
        claim(
            "C5",
            [scaling(0.0, predicted=(-0.3, 0.3)), scaling(1.0)],
            artifacts={
                "correlation_curves": {
                    f"{kind} T={t}": {
                        "samples": list(s),
                        "correlation": list(rising**k),
                        "batch": 64,
                        "stage1_end": 256,
                    }
                    for kind, k in (("scratch", 3), ("finetune", 1))
                    for t in (32, 64, 128)
                }
            },
        ),
        claim(
            "C7",
            [failing()],
            artifacts={
                "trajectories": {
                    "pppd": curve(s, dist_V=falling, dist_A=falling),
                    **{
                        f"sgd lr={lr:g}": curve(s, dist_V=falling**lr, dist_A=1 + 0 * s)
                        for lr in (0.01, 0.1, 1.0)
                    },
                    "sgd lr=10": curve(
                        s,
                        dist_V=[1, 10, 1e10, 1e50, None, None],
                        dist_A=[1, 5, 1e20, 1e80, None, None],
                    ),
                }
            },
        ),
        claim(
            "C8",
            [passing()],
            algorithm="softmax",
            artifacts={
                "attention": {
                    "Qstar": [[0, 1], [1, 0], [0, 0]],
                    "linear": [[0.1, 0.8], [0.9, 0.1], [0, 0.1]],
                    "model": [[0.2, 0.6], [0.7, 0.2], [0.1, 0.2]],
                },
                "values": {
                    "P": [[0.5, 0.5], [0.5, 0.5]],
                    "linear": [[0.4, -0.1], [0.6, 1.1]],
                    "model": [[0.5, 0.4], [0.5, 0.6]],
                },
                "curves": {
                    "model": curve(s, excess_risk=falling, correlation=rising),
                    "linear": curve(s, excess_risk=falling**2, correlation=rising),
                },
                "unknown_format": {"x": 1},
                "trajectories": {"pppd": {"samples": [1, 2]}},  # malformed: no dist_V
            },
        ),
        claim("C9", [], error="Traceback (most recent call last):\nRuntimeError: boom"),
    ]


def test_synthetic_report(tmp_path):
    results = write(tmp_path / "results.json", *synthetic_reports())
    written = write_report(results, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    names = sorted(p.name for p in written.figures)
    assert names == sorted(
        [
            "C3-correlation.png",
            "C3-scaling-1.png",
            "C5-correlation.png",
            "C5-scaling-1.png",
            "C5-scaling-2.png",
            "C7-distance.png",
            "C8-attention.png",
            "C8-values.png",
            "C8-curves.png",
        ]
    )
    for path in written.figures:
        assert path.read_bytes().startswith(PNG) and path.stat().st_size > 5000
        assert f"(figures/{path.name})" in md
    for claim_id in ("C1", "C3", "C5", "C7", "C8", "C9"):
        assert f"## {claim_id} — " in md and f"[{claim_id}](#" in md
    assert "$C T^{\\kappa}$" in md  # bounds as LaTeX
    assert "| **violated** |" in md  # C7 in the verdict table
    assert "RuntimeError: boom" in md
    assert "\\|" not in md.split("## Verdicts")[0]
    notes = " ".join(written.notes)
    assert "`unknown_format` is not drawn" in notes
    assert "`trajectories` is malformed" in notes
    assert "C9: no figures: the claim errored" in notes
    assert "## Provenance" in md and "torch" in md


def test_math_title_falls_back_to_plain_text():
    good = _math_title("samples", {"expr": "C*T**k", "expr_latex": "C T^{k}"})
    bad = _math_title(None, {"expr": "Piecewise((1, x > 0))", "expr_latex": r"\begin{cases}"})
    assert good == "samples = $C T^{k}$"
    assert bad == "bound: Piecewise((1, x > 0))"


@pytest.fixture(scope="module")
def real_results(tmp_path_factory):
    """A real smoke run of C1 and C3 (C3 trains: correlation curves and a scaling fit)."""
    from scb_verify.cli import main

    path = tmp_path_factory.mktemp("real") / "smoke.json"
    code = main(
        [
            *("check", "C1", "C3", "--budget", "smoke", "--jobs", "1"),
            *("--quiet", "--no-cache", "--json", str(path)),
        ]
    )
    assert code in (0, 1)
    return path


def test_report_from_real_run(cli, real_results, tmp_path):
    code, out, _ = cli("report", real_results, "--out", tmp_path / "report")
    assert code == 0 and "report.md" in out
    md = (tmp_path / "report" / "report.md").read_text()
    assert "## C1 — " in md and "## C3 — " in md
    doc = json.loads(real_results.read_text())
    c3 = next(c for c in doc["claims"] if c["id"] == "C3")
    figures = {p.name for p in (tmp_path / "report" / "figures").iterdir()}
    if c3["artifacts"].get("correlation_curves"):
        assert "C3-correlation.png" in figures
    if any(c["kind"] == "scaling" and "slope" in c["evidence"] for c in c3["checks"]):
        assert "C3-scaling-2.png" not in figures and "C3-scaling-1.png" in figures
    for name in figures:
        assert (tmp_path / "report" / "figures" / name).read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("[]", "not an scb-verify results file"),
        ('{"schema": "scb-verify/results", "schema_version": 99}', "schema version 99"),
    ],
)
def test_bad_input_exit_2(cli, tmp_path, content, message):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    code, _, err = cli("report", path, "--out", tmp_path / "out")
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_matplotlib_is_a_clear_error(cli, tmp_path, monkeypatch):
    results = write(tmp_path / "results.json", claim("C1", [passing()]))
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, _, err = cli("report", results, "--out", tmp_path / "out")
    assert code == 2
    assert "pip install 'scb-verify[report]'" in err
