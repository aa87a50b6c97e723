"""The claim contract the framework keeps (scb_verify.claim): typed grids checked when they are
built, the algorithm under test gets the claim's settings without the claim copying them, a claim
that trains nothing is a plain function, and the registry and runner import each other no
more."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scb_verify.checks import threshold_check
from scb_verify.claim import Claim, ClaimContext, ClaimOutcome, Grid, GridError, Job
from scb_verify.executors import SerialExecutor
from scb_verify.registry import PluginError, load_registry
from scb_verify.runner import run_claims
from scb_verify.runs import RunSpec
from scb_verify.task import make_task

SPEC = RunSpec(make_task(3, 4, 2, seed=1), seed=0, batch=8, samples=16)


class Tuned(Claim):
    id, title, paper, statement, control = "T2", "settings", "S0", "-", "-"
    algorithm = "sgd"

    def settings_for(self, algorithm):
        return {"lr": 0.05} if algorithm == "sgd" else {}

    def measure(self, ctx: ClaimContext):
        own, explicit, other = yield [
            Job(ctx.algorithm, (SPEC,)),
            Job(
                ctx.algorithm,
                (RunSpec(SPEC.task, seed=1, batch=8, samples=16, settings={"lr": 0.2}),),
            ),
            Job("null", (SPEC,)),
        ]
        lrs = [runs[0].settings.get("lr") for runs in (own, explicit, other)]
        return ClaimOutcome(checks=[], measurements={"lr": lrs})


def test_the_framework_applies_the_algorithms_settings():
    (report,) = run_claims([Tuned()], budget="smoke", executor=SerialExecutor())
    assert report.error is None
    assert report.measurements["lr"] == [
        0.05,
        0.2,
        None,
    ]  # spec's own wins; other algorithms untouched


class PlainGrid(Grid):
    value: float = 0.5


class Plain(Claim[PlainGrid]):
    id, title, paper, statement, control = "T3", "plain", "S0", "-", "-"
    grids = PlainGrid.budgets(smoke={})

    def measure(self, ctx: ClaimContext) -> ClaimOutcome:
        value = self.grid(ctx.budget).value * (10 if ctx.control else 1)
        return ClaimOutcome(checks=[threshold_check([value, value], 1.0, direction="<=")])


def test_a_claim_that_trains_nothing_is_a_plain_function():
    (report,) = run_claims([Plain()], budget="smoke", executor=SerialExecutor())
    assert report.error is None and report.status == "holds" and report.runs == 0
    (control,) = run_claims([Plain()], budget="smoke", executor=SerialExecutor(), control=True)
    assert control.status == "violated"


def test_registry_does_not_import_the_runner():
    code = "import sys, scb_verify.registry; assert 'scb_verify.runner' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


class SweepGrid(Grid):
    T: tuple[int, ...]
    N: int = 5
    rho1: float = 0.6
    sizes: tuple[tuple[int, int], ...] = ((3, 4),)


def test_a_grid_is_the_shared_defaults_overridden_per_budget():
    grids = SweepGrid.budgets(smoke={"T": [32, 64]}, ci={"T": (32,), "N": 7, "rho1": 1})
    assert set(grids) == {"smoke", "ci"}
    assert grids["smoke"] == SweepGrid(T=(32, 64), N=5, rho1=0.6, sizes=((3, 4),))
    assert grids["ci"].N == 7 and grids["ci"].rho1 == 1 and grids["ci"].T == (32,)
    assert grids["smoke"].as_dict() == {"T": [32, 64], "N": 5, "rho1": 0.6, "sizes": [[3, 4]]}
    with pytest.raises(AttributeError):
        grids["smoke"].seeds  # noqa: B018 (a typo in a parameter's name fails, never a default)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"smoke": {"T": (1,), "Nn": 3}}, "SweepGrid at budget 'smoke': unknown parameter 'Nn'; "),
        (
            {"ci": {"T": (1.5,)}},
            r"SweepGrid.T must be tuple\[int, ...\], got \(1.5,\) \(budget 'ci'\)",
        ),
        ({"full": {"T": (1,), "N": "5"}}, r"SweepGrid.N must be int, got '5'"),
        ({"full": {"T": (1,), "N": True}}, r"SweepGrid.N must be int, got True"),
        ({"ci": {"T": (1,), "sizes": ((1, 2, 3),)}}, r"SweepGrid.sizes must be"),
        ({"smoke": {}}, r"SweepGrid at budget 'smoke': .*missing 1 required .*'T'"),
        (
            {"tiny": {"T": (1,)}},
            r"SweepGrid: unknown budget 'tiny'; allowed: \['smoke', 'ci', 'full'\]",
        ),
    ],
)
def test_a_grid_refuses_what_its_class_does_not_declare(overrides, message):
    with pytest.raises(GridError, match=message):
        SweepGrid.budgets(**overrides)


def test_a_claim_with_untyped_grids_is_refused_at_registration(tmp_path, monkeypatch):
    (tmp_path / "dict_grid_claim.py").write_text(
        "from scb_verify import Claim, hookimpl\n"
        "class Old(Claim):\n"
        "    id, title, paper, statement, control = 'D1', 'd', 'S0', '-', '-'\n"
        "    grids = {'smoke': {'seeds': 3}}\n"
        "@hookimpl\n"
        "def register_claims():\n"
        "    return [Old()]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="claim D1 grid 'smoke' is dict, not a Grid"):
        load_registry(["dict_grid_claim"])


def test_every_built_in_claim_has_a_typed_grid_at_every_budget():
    for claim in load_registry().claims.values():
        assert set(claim.grids) == {"smoke", "ci", "full"}, claim.id
        assert all(isinstance(g, Grid) for g in claim.grids.values()), claim.id
