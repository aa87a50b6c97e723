"""pytest plugin: every registered claim as a test item (``pytest --scb-claims=smoke``).

Loaded by every pytest run of an environment where scb-verify is installed (entry-point group
``pytest11``), so without ``--scb-claims`` it only declares its options and the ``scb_claim``
marker: it collects nothing and imports neither torch nor any claim. With it, the claims come
from the plugin registry (not from files, so any rootdir works), one item ``scb-verify::C3[smoke]``
per claim, marked ``scb_claim`` (select with ``-k C3``, ``-k S3`` for the paper statement, or
``-m scb_claim``). Each item runs its claim through :func:`scb_verify.runner.run_claims`; the
run policy — claim order, executor choice, baseline compatibility, the gate, what a session
with nothing to run is — is :mod:`scb_verify.session`'s, shared with ``scb-verify check``.

Verdicts map to outcomes as ``scb-verify check`` maps them to exit codes:

- holds → passed; violated or error → failed, the report listing every check's summary and key
  evidence (or the traceback);
- unreached → failed, the report saying "not reached within the budget" with the reach check's
  summary: the learner did not reach the claim's target within the budget asked for, so the
  statement's scaling was not measured (not a violation of it, but no pass either);
- inconclusive → **skipped**, the check summaries as the reason. Not xfail: xfail means "known
  to fail", and an xpass would then read as news; an inconclusive verdict is *no* verdict — the
  measurement had too little power to decide — which is what a skip says. ``--scb-strict``
  turns it into a failure, like ``scb-verify check --strict``;
- ``--scb-controls``: each item runs the claim's negative control and passes only if it comes
  out violated or unreached (its checks failed; holds or inconclusive: the check may be unable
  to fail);
- ``--scb-baseline FILE`` (a results file of the same budget; ``--scb-baseline=shipped``: the
  one shipped for the budget): the gate of :mod:`scb_verify.diff` first — a move for the worse,
  an exponent moving toward violating beyond the noise (and ``--scb-baseline-tolerance``), or a
  baseline finding (violated or unreached) that no longer shows, fails; a finding the baseline
  records, still violated or unreached, is ``xfail``; otherwise as above. Exponents are judged
  over the family of the baseline's runs of the collected claims
  (:meth:`scb_verify.diff.Gate.over`), as ``scb-verify check --baseline`` judges them.

Every finished job is kept in the job cache that ``scb-verify check`` uses (``--scb-cache DIR``,
``--scb-no-cache``), so a rerun redoes only unfinished or changed jobs; claims and jobs have the
budget's deadlines (``--scb-timeout``, ``--scb-job-timeout`` override them), past which the claim
fails with ``timed out after N s``.

Each item records ``scb_verdict``, ``scb_samples`` and ``scb_config_hash`` as user properties
(they appear in ``--junitxml`` output); ``--scb-json PATH`` writes the results file of the
session's claim runs, for ``scb-verify report`` and ``scb-verify diff``.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import TYPE_CHECKING, Any

import pytest

from scb_verify.schema import BUDGETS
from scb_verify.text import brief

if TYPE_CHECKING:
    import concurrent.futures as cf

    from scb_verify.cache import JobCache
    from scb_verify.claim import Claim
    from scb_verify.diff import Gate
    from scb_verify.records import ClaimRun

#: Options that only make sense with --scb-claims.
DEPENDENT_OPTIONS = ("scb_controls", "scb_algorithm", "scb_jobs", "scb_plugin", "scb_strict",
                     "scb_json", "scb_baseline", "scb_baseline_tolerance", "scb_executor",
                     "scb_address", "scb_device", "scb_set", "scb_family", "scb_cache",
                     "scb_no_cache", "scb_timeout", "scb_job_timeout")  # fmt: skip
#: Evidence entries left out of failure reports (settings of the check, not findings).
BOOKKEEPING = frozenset({"seed", "level", "expr_latex", "n_resamples", "intercept",
                         "statistic", "labels", "direction", "smaller_is_better", "paired",
                         "exact"})  # fmt: skip


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scb-verify", "scb-verify claims as tests")
    group.addoption(
        "--scb-claims",
        choices=BUDGETS,
        metavar="BUDGET",
        help="collect every registered claim as a test at BUDGET (smoke|ci|full)",
    )
    group.addoption(
        "--scb-controls",
        action="store_true",
        help="run the negative controls instead: an item fails unless violated or unreached",
    )
    group.addoption(
        "--scb-algorithm",
        metavar="NAME",
        help="substitute this algorithm in every claim that trains",
    )
    group.addoption(
        "--scb-jobs",
        type=int,
        metavar="N",
        help="worker processes for training jobs (default 1; every job runs in a worker "
        "process, so a job that hangs or crashes fails only its own claim)",
    )
    group.addoption(
        "--scb-executor",
        metavar="NAME",
        help="registered executor for the training jobs (default: local; e.g. ray)",
    )
    group.addoption(
        "--scb-set",
        action="append",
        metavar="KEY=VALUE",
        help="a setting of the algorithm under test (repeatable; as check --set)",
    )
    group.addoption(
        "--scb-family",
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="the instance family every claim's instances come from (as check --family)",
    )
    group.addoption(
        "--scb-device",
        metavar="DEVICE",
        help="train the jobs on DEVICE (e.g. cuda) in one worker process that owns it",
    )
    group.addoption(
        "--scb-address",
        metavar="ADDR",
        help="with --scb-executor=ray: the Ray cluster (default: $RAY_ADDRESS, else a local one)",
    )
    group.addoption(
        "--scb-plugin",
        action="append",
        metavar="MODULE",
        help="import MODULE as an scb-verify plugin (repeatable)",
    )
    group.addoption(
        "--scb-strict",
        action="store_true",
        help="an inconclusive verdict fails instead of skipping",
    )
    group.addoption(
        "--scb-baseline",
        metavar="FILE",
        help="results file of expected verdicts (scb-verify check --json), or 'shipped' for the "
        "one shipped for the budget: a claim violated or unreached there and still so is xfail; "
        "any move for the worse fails, and so does a baseline finding that no longer shows "
        "(like xfail strict)",
    )
    group.addoption(
        "--scb-baseline-tolerance",
        type=float,
        metavar="D",
        help="with --scb-baseline: an exponent fails only if it moved toward violating by more "
        "than D beyond the noise (exponent units; default 0)",
    )
    group.addoption(
        "--scb-cache",
        metavar="DIR",
        help="job cache, as scb-verify check --cache: a rerun redoes only jobs not stored here "
        "(default: job-cache in the per-user cache folder, $SCB_VERIFY_CACHE_DIR or "
        "~/.cache/scb-verify)",
    )
    group.addoption(
        "--scb-no-cache", action="store_true", help="neither read nor write the job cache"
    )
    group.addoption(
        "--scb-timeout",
        type=float,
        metavar="S",
        help="a claim's deadline in seconds, as scb-verify check --timeout (default by budget: "
        "smoke 600, ci 3600, full 28800)",
    )
    group.addoption(
        "--scb-job-timeout",
        type=float,
        metavar="S",
        help="a job's deadline in seconds from its start, as scb-verify check --job-timeout "
        "(default by budget: smoke 300, ci 1200, full 10800)",
    )
    group.addoption(
        "--scb-json",
        metavar="PATH",
        help="write the results file of the claims run (for report and diff)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "scb_claim(id): an scb-verify claim collected by --scb-claims"
    )
    budget = config.getoption("scb_claims", None)
    if budget is None:
        given = [n for n in DEPENDENT_OPTIONS if config.getoption(n, None) not in (None, False)]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise pytest.UsageError(f"{flag} needs --scb-claims=BUDGET ({'|'.join(BUDGETS)})")
        return
    jobs = config.getoption("scb_jobs")
    jobs = 1 if jobs is None else jobs
    if jobs < 1:
        raise pytest.UsageError(f"--scb-jobs must be a positive integer, got {jobs}")
    config.pluginmanager.register(ClaimSession(config, budget, jobs), "scb-verify-claims")


class ClaimSession:
    """The claims of one pytest session: collection, one shared executor, the results."""

    def __init__(self, config: pytest.Config, budget: str, jobs: int):
        self.config, self.budget, self.jobs = config, budget, jobs
        self.control = bool(config.getoption("scb_controls"))
        self.algorithm = config.getoption("scb_algorithm")
        self.plugins = tuple(config.getoption("scb_plugin") or ())
        self.strict = bool(config.getoption("scb_strict"))
        self.baseline: dict[str, ClaimRun] = {}
        self.gate: Gate | None = None
        self.tolerance = config.getoption("scb_baseline_tolerance") or 0.0
        path = config.getoption("scb_baseline")
        if path is None and self.tolerance:
            raise pytest.UsageError("--scb-baseline-tolerance needs --scb-baseline")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise pytest.UsageError(
                f"--scb-baseline-tolerance must be a number >= 0, got {self.tolerance}"
            )
        if path is not None:
            from scb_verify.schema import ResultsError
            from scb_verify.session import SessionError, check_baseline, load_baseline

            try:
                doc, where = load_baseline(path, budget)
                check_baseline(doc, budget=budget, control=self.control, where=where)
            except (ResultsError, SessionError) as e:
                raise pytest.UsageError(f"--scb-baseline: {e}") from None
            self.baseline = doc.by_key()
        self.executor_name = config.getoption("scb_executor") or "local"
        self.address = config.getoption("scb_address")
        if self.address is not None and self.executor_name != "ray":
            raise pytest.UsageError("--scb-address needs --scb-executor=ray")
        if config.getoption("scb_cache") and config.getoption("scb_no_cache"):
            raise pytest.UsageError("--scb-cache and --scb-no-cache: give one")
        self.timeouts = {}
        for name in ("timeout", "job_timeout"):
            value = config.getoption(f"scb_{name}")
            if value is not None and not (math.isfinite(value) and value > 0):
                flag = f"--scb-{name.replace('_', '-')}"
                raise pytest.UsageError(f"{flag} must be a number of seconds > 0, got {value}")
            self.timeouts[name] = value
        self.cache: JobCache | None = None
        self.reports: list[ClaimRun] = []
        self.settings: tuple[tuple[str, str], ...] = ()
        self.family: dict[str, Any] = {}
        self.skipped: dict[str, str] = {}
        self.t0: float | None = None
        self._executor: cf.Executor | None = None
        self.registry = None

    def _settings(self) -> tuple[tuple[str, str], ...]:
        """``--scb-set`` pairs, sorted; SessionError for a malformed one."""
        from scb_verify.session import SessionError

        pairs = []
        for text in self.config.getoption("scb_set") or ():
            key, sep, value = text.partition("=")
            if not sep or not key.strip():
                raise SessionError(f"--scb-set: expected KEY=VALUE, got {text!r}")
            pairs.append((key.strip(), value.strip()))
        if len({k for k, _ in pairs}) != len(pairs):
            raise SessionError("--scb-set: a key given twice; give each once")
        return tuple(sorted(pairs))

    def _family(self) -> dict[str, Any]:
        """``--scb-family`` as a family (empty: the default)."""
        from scb_verify.family import FamilyError, parse_family
        from scb_verify.session import SessionError

        text = self.config.getoption("scb_family")
        if not text or text == "default":
            return {}
        try:
            return parse_family(tuple(p.split("=", 1)) if "=" in p else (p, "") for p in
                                text.split(","))  # fmt: skip
        except FamilyError as e:
            raise SessionError(f"--scb-family: {e}") from None

    @pytest.hookimpl(tryfirst=True)  # before -k / -m deselection
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list) -> None:
        from scb_verify import session as policy
        from scb_verify.registry import PluginError, load_registry

        try:
            registry = load_registry(self.plugins)
            if self.algorithm:
                registry.algorithm(self.algorithm)
            if self.executor_name not in registry.executors:
                raise policy.SessionError(
                    f"unknown executor {self.executor_name!r}; available: "
                    f"{', '.join(sorted(registry.executors))}"
                )
            claims = policy.select_claims(registry, ())
            policy.check_runnable(claims, self.algorithm)
            self.settings = self._settings()
            policy.check_settings(
                registry, claims, [policy.Configuration(self.algorithm, self.settings)]
            )
            self.family = self._family()
            device = self.config.getoption("scb_device")
            if device not in (None, "cpu"):
                from scb_verify.device_executor import DeviceUnavailable, check_device

                try:
                    check_device(device)
                except DeviceUnavailable as e:
                    raise policy.SessionError(f"--scb-device: {e}") from None
            self.skipped = policy.skipped(claims, self.algorithm, option="--scb-algorithm")
            if self.baseline:
                from scb_verify.diff import Gate

                ids = {c.id for c in claims} - set(self.skipped)
                running = [r for r in self.baseline.values() if r.id in ids]
                self.gate = Gate.over(running, tolerance=self.tolerance)
        except KeyError as e:
            raise pytest.UsageError(f"scb-verify: {e.args[0]}") from None
        except (PluginError, policy.SessionError) as e:
            raise pytest.UsageError(f"scb-verify: {e}") from None
        self.registry = registry
        collector = ClaimCollector.from_parent(
            session, name="scb-verify", nodeid="scb-verify", claims=claims, run=self
        )
        # Collected through the hooks pytest uses itself, so the terminal counts the items.
        report = collector.ihook.pytest_make_collect_report(collector=collector)
        collector.ihook.pytest_collectreport(report=report)
        items += [node for node in report.result if isinstance(node, pytest.Item)]

    def run(self, claim: Claim) -> ClaimRun:
        """Run one claim (or its control) at the session's budget and algorithm."""
        from scb_verify import session
        from scb_verify.runner import run_claims

        if self._executor is None:
            workers = session.worker_count(self.jobs, executor=self.executor_name)
            self._executor = session.make_executor(
                self.registry,
                self.executor_name,
                workers.count,
                self.address,
                device=self.config.getoption("scb_device") or "cpu",
            )
            self.config.add_cleanup(self._executor.shutdown)
            if not self.config.getoption("scb_no_cache"):
                from scb_verify.cache import JobCache
                from scb_verify.paths import job_cache

                self.cache = JobCache(self.config.getoption("scb_cache") or job_cache())
            self.t0 = time.perf_counter()
        (report,) = run_claims(
            [claim],
            budget=self.budget,
            executor=self._executor,
            algorithm=self.algorithm,
            control=self.control,
            plugins=self.plugins,
            settings=dict(self.settings),
            family=self.family,
            cache=self.cache,
            **self.timeouts,
        )
        self.reports.append(report)
        return report

    def pytest_terminal_summary(self, terminalreporter) -> None:
        """One line on the job cache, as ``scb-verify check`` prints it."""
        cache = self.cache
        if cache is not None and cache.hits + cache.misses:
            terminalreporter.write_line(
                f"scb-verify job cache {cache.root}: {cache.hits} of {cache.hits + cache.misses} "
                f"jobs reused, {cache.misses} computed"
                + (f" ({cache.bad} bad entries)" if cache.bad else "")
            )

    def pytest_sessionfinish(self) -> None:
        path = self.config.getoption("scb_json")
        if not path or not self.reports:
            return
        from scb_verify.provenance import write_json_atomic
        from scb_verify.schema import results_document

        write_json_atomic(
            path,
            results_document(
                self.reports,
                budget=self.budget,
                algorithm=self.algorithm,
                control=self.control,
                wall_time=time.perf_counter() - (self.t0 or time.perf_counter()),
            ),
        )


class ClaimCollector(pytest.Collector):
    """The parent node of the claim items: one item per claim of the registry."""

    def __init__(self, *, claims: list[Claim], run: ClaimSession, **kwargs: Any):
        super().__init__(**kwargs)
        self.claims, self.session_run = claims, run

    def collect(self) -> list[ClaimItem]:
        run = self.session_run
        from scb_verify.family import family_label

        tags = "-".join(
            [
                run.budget,
                *([",".join(f"{k}={v}" for k, v in run.settings)] if run.settings else []),
                *([family_label(run.family)] if run.family else []),
                *(["control"] if run.control else []),
                *([run.algorithm] if run.algorithm else []),
            ]
        )
        return [
            ClaimItem.from_parent(self, name=f"{claim.id}[{tags}]", claim=claim, run=run)
            for claim in self.claims
        ]


class ClaimFailed(Exception):
    """A claim's verdict is not the one the item needs: the headline is the message (short
    summaries, JUnit's failure message), ``text`` the whole report."""

    def __init__(self, text: str):
        super().__init__(text.partition("\n")[0])
        self.text = text


class ClaimItem(pytest.Item):
    """One claim (or its negative control) as a test."""

    def __init__(self, *, claim: Claim, run: ClaimSession, **kwargs: Any):
        super().__init__(**kwargs)
        self.claim, self.session_run = claim, run
        self.add_marker(pytest.mark.scb_claim(claim.id))
        self.extra_keyword_matches.add(claim.paper)
        if claim.id in run.skipped:
            self.add_marker(pytest.mark.skip(reason=run.skipped[claim.id]))

    def runtest(self) -> None:
        from scb_verify.records import is_good
        from scb_verify.verdict import Status

        report = self.session_run.run(self.claim)
        self.user_properties += [
            ("scb_verdict", report.status.value),
            ("scb_samples", report.samples),
            ("scb_config_hash", report.config_hash),
            ("scb_trained", ",".join(report.trained)),
            ("scb_read_truth", ",".join(report.truth_readers)),
        ]
        before = self.session_run.baseline.get(report.key)
        if before is not None:
            from scb_verify.diff import claim_changes

            changes = claim_changes(before, report, self.session_run.gate)
            failing = [c for c in changes if c.regression]
            if failing:
                raise ClaimFailed(
                    "against the baseline: "
                    + "; ".join(str(c) for c in failing)
                    + "\n"
                    + describe_failure(report)
                )
            if any(c.expected for c in changes):
                pytest.xfail(
                    f"{report.id} {report.status.value}, as in the baseline: "
                    + "; ".join(
                        c.headline for c in report.checks if not is_good(c.status, report.control)
                    )
                )
        if report.good:
            return
        if report.status is Status.INCONCLUSIVE and not (report.control or self.session_run.strict):
            pytest.skip(
                f"{report.id} inconclusive: "
                + "; ".join(c.headline for c in report.checks if c.status is Status.INCONCLUSIVE)
            )
        raise ClaimFailed(describe_failure(report))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None):
        if isinstance(excinfo.value, ClaimFailed):
            return excinfo.value.text
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        cls = type(self.claim)
        try:
            path, line = inspect.getsourcefile(cls), inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            path, line = self.path, None
        return path, line, f"claim {self.name}: {self.claim.title}"


def describe_failure(report: ClaimRun) -> str:
    """The failure text: verdict against the good ones, run facts, then each check's verdict,
    summary and key evidence (or the traceback of an error). An unreached claim says "not
    reached within the budget" with its reach checks' summaries under the first line: nothing
    was measured against the statement."""
    from scb_verify.records import good_statuses
    from scb_verify.verdict import Status

    kind = "negative control" if report.control else "claim"
    wanted = " or ".join(s.value for s in good_statuses(report.control))
    lines = [
        f"{kind} {report.id} is {report.status.value}, expected {wanted} "
        f"(trained {', '.join(report.trained) or report.algorithm or '-'}, {report.runs} runs, "
        f"{report.samples:.3g} samples, "
        f"{report.wall_time:.1f} s, config {report.config_hash})",
    ]
    if report.control and report.status is Status.HOLDS:
        lines.append("the control holds: this claim's check may be unable to fail")
    if not report.control and report.status is Status.UNREACHED:
        lines += [
            f"not reached within the budget: {c.summary}"
            for c in report.checks
            if c.status is Status.UNREACHED
        ]
    if report.truth_readers:
        lines.append(f"read the ground truth: {', '.join(report.truth_readers)} (a reference)")
    if report.error:
        lines += ["", report.error.rstrip()]
    for check in report.checks:
        head = f"[{check.status.value}] {check.label} ({check.kind})"
        lines.append(f"  {head}: {check.summary}")
        lines += [
            f"      {key}: {brief(value, width=6, limit=160)}"
            for key, value in check.evidence.items()
            if key not in BOOKKEEPING
        ]
    return "\n".join(lines)
