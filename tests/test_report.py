"""``scb-verify report``: Markdown and figures from synthetic and real results files, the figure
plugins, and the report's light start (neither torch nor numba)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from synthetic_results import claim, failing, passing, scaling, write

from scb_verify.pluginmanager import AUTOLOAD_OFF_ENV, PLUGINS_ENV
from scb_verify.report import write_report
from scb_verify.report.scaling import math_title, scaling_plots
from scb_verify.report.style import plain_number, range_text, text_colour
from scb_verify.verdict import Range

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
                    str(t): {
                        "samples": list(s * k),
                        "correlation": list(rising),
                        "batch": 32 * k,
                        "T": t,
                    }
                    for k, t in ((1, 32), (2, 64), (4, 128))
                }
            },
        ),
        claim(
            "C5",
            [scaling(0.0, predicted=(-0.3, 0.3)), scaling(1.0)],
            artifacts={
                "correlation_curves": {
                    f"{start} T={t}": {
                        "samples": list(s),
                        "correlation": list(rising**k),
                        "batch": 64,
                        "stage1_end": 256,
                        "T": t,
                        "start": start,
                    }
                    for start, k in (("scratch", 3), ("finetune", 1))
                    for t in (32, 64, 128)
                },
                "cost_decomposition": {
                    "axis": "T",
                    "series": {
                        "scratch": {
                            "x": [32, 64, 128],
                            "samples": [3000.0, 4500.0, 6400.0],
                            "batch": [128.0, 128.0, 256.0],
                            "steps": [23.4, 35.2, 25.0],
                            "reached": [40, 40, 40],
                            "seeds": [40, 40, 40],
                        },
                        "finetune": {
                            "x": [32, 64, 128],
                            "samples": [2500.0, 3000.0, None],
                            "batch": [96.0, 128.0, None],
                            "steps": [26.0, 23.4, None],
                            "reached": [40, 39, 0],
                            "seeds": [40, 40, 40],
                        },
                    },
                },
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


@pytest.fixture
def synthetic(tmp_path):
    return write(tmp_path / "results.json", *synthetic_reports())


def test_synthetic_report(synthetic, tmp_path):
    written = write_report(synthetic, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    names = sorted(p.name for p in written.figures)
    assert names == sorted(
        [
            "scaling-summary.png",
            "C3-correlation.png",
            "C3-scaling-1.png",
            "C5-correlation.png",
            "C5-cost.png",
            "C5-scaling-1.png",  # both checks fit the same bound in the same variable: one family
            "C7-distance.png",
            "C8-attention.png",
            "C8-values.png",
            "C8-curves.png",
        ]
    )
    for path in written.figures:
        assert path.read_bytes().startswith(PNG) and path.stat().st_size > 5000
        assert f"(figures/{path.name})" in md
    assert md.index("## Scaling checks") < md.index("## C1 — ")
    for claim_id in ("C1", "C3", "C5", "C7", "C8", "C9"):
        assert f"## {claim_id} — " in md and f"[{claim_id}](#" in md
    assert "$C T^{\\kappa}$" in md  # bounds as LaTeX
    assert "| **violated** |" in md  # C7 in the verdict table
    assert "RuntimeError: boom" in md
    assert "interquartile range over seeds" in md  # the captions say which band
    assert "\\|" not in md.split("## Verdicts")[0]
    notes = " ".join(written.notes)
    assert "`unknown_format` is not drawn" in notes
    assert "`trajectories` is malformed" in notes
    assert "C9: no figures: the claim errored" in notes
    assert "## Provenance" in md and "torch" in md


def figure_texts(figure) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in figure.findobj(Text)]


def test_scaling_figure_keeps_a_strict_range_strict():
    """A strict statement ("exponent < 0") is drawn and captioned as "< 0", never "≤ 0", and the
    legend names the check's quantity."""
    strict = Range(hi=0.0, hi_closed=False)
    run = claim("C2", [scaling(-0.5, predicted=strict)])
    (plot,), notes = scaling_plots(run)
    texts = " ".join(figure_texts(plot.figure))
    assert notes == []
    assert "predicted < 0 ·" in texts and "≤ 0" not in texts
    assert "< 0" in plot.caption and "≤" not in plot.caption
    assert f"fit: {run.checks[0].quantity}" in texts
    assert "statistic per point" not in texts.replace("fitted statistic per point", "")
    closed = claim("C2", [scaling(-0.5, predicted=(-math.inf, 0.0))])
    assert "predicted ≤ 0 ·" in " ".join(figure_texts(scaling_plots(closed)[0][0].figure))


def test_scaling_family_is_one_faceted_figure():
    """Checks of one bound in one variable share a figure: a panel each on shared axes, and a
    forest row each."""
    run = claim("C4", [scaling(0.1, seed=1), scaling(0.2, seed=2), scaling(0.3, seed=3)])
    (plot,), _ = scaling_plots(run)
    panels, forest = plot.figure.axes[:3], plot.figure.axes[3]
    assert len(plot.figure.axes) == 4
    assert all(ax.get_shared_y_axes().joined(panels[0], ax) for ax in panels)
    assert [t.get_text() for t in forest.get_yticklabels()][::-1] == [  # top down
        "scaling #1",
        "scaling #2",
        "scaling #3",
    ]


@pytest.mark.parametrize(
    ("predicted", "text"),
    [
        (Range(lo=0.0, lo_closed=False), "> 0"),
        (Range(lo=0.5), "≥ 0.5"),
        (Range(hi=0.289), "≤ 0.289"),
        (Range(-0.6, -0.4), "in [-0.6, -0.4]"),
        (Range(0.0, 1.0, lo_closed=False), "in (0, 1]"),
        (Range(), "any"),
    ],
)
def test_range_text(predicted, text):
    assert range_text(predicted) == text


def test_plain_numbers_and_readable_cells():
    assert plain_number(2097152) == "2,097,152"
    assert plain_number(0.3) == "0.3" and plain_number(12345.6) == "12,346"
    assert text_colour((0.27, 0.0, 0.33, 1.0)) == "white"  # dark viridis
    assert text_colour((0.99, 0.91, 0.14, 1.0)) == "black"  # bright viridis


def test_math_title_falls_back_to_plain_text():
    good = math_title("samples", "C*T**k", "C T^{k}")
    bad = math_title(None, "Piecewise((1, x > 0))", r"\begin{cases}")
    assert good == "samples = $C T^{k}$"
    assert bad == "bound: Piecewise((1, x > 0))"


FIGURE_PLUGIN = """
from scb_verify.hookspecs import hookimpl
from scb_verify.report import FigureMaker, Plot, new_figure


def draw(run, budget, artifact):
    fig = new_figure(4, 3)
    fig.add_subplot().bar(list(artifact), list(artifact.values()))
    return [Plot("bars", f"{run.key}: bars of {len(artifact)} values", fig)]


@hookimpl
def register_figures():
    return [FigureMaker("{key}", draw, "bars")]
"""


def test_third_party_figure(cli, plugin_module, tmp_path):
    """A claim's own artifact format is drawn by the figure its plugin registers."""
    module = plugin_module(FIGURE_PLUGIN.replace("{key}", "bar_heights"))
    results = write(
        tmp_path / "r.json", claim("X1", [passing()], artifacts={"bar_heights": {"a": 1, "b": 2}})
    )
    code, out, _ = cli("--plugin", module, "report", results, "--out", tmp_path / "out")
    assert code == 0 and "note" not in out
    assert (tmp_path / "out" / "figures" / "X1-bars.png").read_bytes().startswith(PNG)
    assert "*X1: bars of 2 values*" in (tmp_path / "out" / "report.md").read_text()


def test_two_figures_for_one_artifact_is_an_error(cli, plugin_module, tmp_path):
    module = plugin_module(FIGURE_PLUGIN.replace("{key}", "trajectories"))
    results = write(tmp_path / "r.json", claim("C1", [passing()]))
    code, _, err = cli("--plugin", module, "report", results, "--out", tmp_path / "out")
    assert code == 2
    assert "'trajectories' has two figures" in err and module in err
    assert "scb_verify.report.curves" in err


def test_report_starts_neither_torch_nor_numba(synthetic, tmp_path):
    """`scb-verify report` in a fresh interpreter, every built-in figure drawn: the light
    figure manager never imports the built-in algorithms or claims."""
    script = textwrap.dedent(
        f"""
        import sys
        from scb_verify.cli import main
        assert main(["report", {str(synthetic)!r}, "--out", {str(tmp_path / "out")!r}]) == 0
        heavy = sorted({{"torch", "numba"}} & set(sys.modules))
        assert not heavy, f"report imported {{heavy}}"
        """
    )
    # Entry-point plugins are third-party code with their own imports: not under test here.
    env = {k: v for k, v in os.environ.items() if k != PLUGINS_ENV} | {AUTOLOAD_OFF_ENV: "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out" / "figures").glob("*.png"))) == 10


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
    if any(c["kind"] == "scaling" and c["evidence"].get("slope") is not None for c in c3["checks"]):
        assert {"C3-scaling-1.png", "scaling-summary.png"} <= figures
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
    assert not (tmp_path / "out").exists()


def test_a_median_curve_is_drawn_with_its_interquartile_band():
    pytest.importorskip("matplotlib")
    from scb_verify.report.curves import curve_figure

    band = {"samples": [1, 2, 3], "dist_V": [2.0, 1.0, 0.5],
            "quartiles": {"dist_V": [[1.5, 0.8, 0.4], [2.5, 1.2, 0.7]]}}  # fmt: skip
    fig = curve_figure({"a": band}, ["dist_V"], styles={}, title="t")
    (ax,) = fig.axes
    (collection,) = ax.collections
    ys = collection.get_paths()[0].vertices[:, 1]
    assert min(ys) == 0.4 and max(ys) == 2.5


def test_a_level_a_curve_states_is_drawn_and_named():
    """C8's loss check normalizes by R₀, which no curve shows: the reference curve states the
    tolerance as a level, drawn dotted on its metric's panel and named in the caption."""
    pytest.importorskip("matplotlib")
    from scb_verify.records import ClaimRun
    from scb_verify.report.curves import curve_levels, metric_curves
    from scb_verify.verdict import Status

    model = {"samples": [1, 2, 3], "excess_risk": [0.3, 0.1, 0.01], "correlation": [0.5, 0.8, 1]}
    linear = {**model, "levels": {"excess_risk": [0.02, "tolerance R_linear + 0.1·R₀"]}}
    curves = {"model": model, "linear": linear}
    assert curve_levels(curves) == {"excess_risk": (0.02, "tolerance R_linear + 0.1·R₀")}
    run = ClaimRun(id="C8", control=False, algorithm="softmax", status=Status.HOLDS)
    (plot,) = metric_curves(run, "smoke", curves)
    assert plot.caption.endswith("dotted: tolerance R_linear + 0.1·R₀")
    risk, correlation = plot.figure.axes
    dotted = [line for line in risk.get_lines() if line.get_linestyle() == ":"]
    assert [list(line.get_ydata()) for line in dotted] == [[0.02, 0.02]]
    assert not [line for line in correlation.get_lines() if line.get_linestyle() == ":"]
    assert "tolerance R_linear + 0.1·R₀" in figure_texts(plot.figure)


def test_the_cost_is_drawn_as_batch_times_steps():
    """Three panels (samples, batch, steps) against the grid; a point not every seed reached is
    hollow and the caption says so; the batch axis is labelled at the powers of two."""
    pytest.importorskip("matplotlib")
    from scb_verify.records import ClaimRun
    from scb_verify.report.cost import cost_decomposition
    from scb_verify.verdict import Status

    (c5,) = [r for r in synthetic_reports() if r.id == "C5"]
    artifact = c5.artifacts["cost_decomposition"]
    run = ClaimRun(id="C5", control=False, algorithm="pppd", status=Status.HOLDS)
    (plot,) = cost_decomposition(run, "ci", artifact)
    assert plot.stem == "cost" and plot.caption.endswith("did not reach within the budget")
    samples, batch, steps = plot.figure.axes
    assert [ax.get_title() for ax in plot.figure.axes] == [
        "samples to the target",
        "smallest successful batch",
        "steps at that batch",
    ]
    assert [t.get_text() for t in batch.get_yticklabels()] == ["64", "128", "256"]
    assert [t.get_text() for t in samples.get_xticklabels()] == ["32", "64", "128"]
    hollow = [c.get_offsets().tolist() for c in steps.collections if (c.get_facecolor() == 1).all()]
    assert [64.0, 23.4] in [point for points in hollow for point in points]


def test_every_verdict_has_a_colour_of_its_own_and_the_matrix_names_it():
    from dataclasses import replace

    from scb_verify.report.matrix import verdict_matrix
    from scb_verify.report.style import STATUS_COLOUR_NAMES, STATUS_COLOURS
    from scb_verify.verdict import CheckResult, Status

    assert set(STATUS_COLOURS) == set(STATUS_COLOUR_NAMES) == set(Status)
    assert len(set(STATUS_COLOURS.values())) == len(set(STATUS_COLOUR_NAMES.values())) == 5
    unreached = claim("C3", [CheckResult("reach", "unreached", "x not reached: unreached", {})])
    runs = [
        replace(unreached, configuration="a"),
        replace(claim("C3", [passing()]), configuration="b"),
    ]
    plot = verdict_matrix(runs)
    assert "purple unreached" in plot.caption and "vermillion violated" in plot.caption
    (legend,) = plot.figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["holds", "unreached"]
