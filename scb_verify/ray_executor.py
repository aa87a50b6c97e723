"""The ``ray`` executor: each training job one Ray task, on a local Ray instance or a cluster.

``scb-verify check --executor ray`` without an address starts a private local Ray instance with
``--jobs`` CPUs and shuts it down at the end; with ``--address ADDR`` (or Ray's own
``RAY_ADDRESS``) it connects to a running cluster and leaves it running. Ray is imported only
here, when the executor is created (``pip install "scb-verify[ray]"``).

Each :class:`~scb_verify.claim.Job` becomes one task declaring :data:`CPUS_PER_JOB` CPU (the
kernels run one thread in it, as in the local pool at ``--jobs`` = cores), so Ray packs as many
jobs per node as it has CPUs. A task whose worker dies (SIGKILL, OOM, a lost node) is retried by
Ray up to :data:`MAX_RETRIES` times, after which its future fails with
:class:`~scb_verify.executors.WorkerDied` (the claim's error: "worker process died (Ray: …)");
an exception raised by the job itself is not retried (it is deterministic) and gives its claim
an error as with the local pool. The future of a task follows Ray's ``ObjectRef.future()``;
cancelling it cancels the task (force: its worker is killed), which is how the runner's claim
deadlines stop work on Ray. Ray's futures do not report when a task starts, so the per-job
deadline (counted from a job's start) does not apply here, and the per-claim one counts the time
a claim's jobs wait in Ray's queue behind other claims' (the local pool leaves that out): a
large sweep on Ray needs a larger ``--timeout`` (the 84-run ci matrix on 2 CPUs timed C4 out at
the default 3600 s). Results do not depend on the executor: a job is a pure function of its
specs.

Workers must import scb_verify and every ``--plugin`` module: on a cluster, install the project
on every node (or pass a Ray runtime environment); see docs/plugin-guide.md."""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from typing import Any

from scb_verify.executors import WorkerDied
from scb_verify.hookspecs import ExecutorFactory, hookimpl

#: CPUs each job's task declares (it trains with that many threads).
CPUS_PER_JOB = 1
#: Ray retries a task whose worker died this many times.
MAX_RETRIES = 3
#: Object store of a local instance (jobs return parameters and curves, well under this).
LOCAL_OBJECT_STORE = 256 * 1024**2


def _run_job(fn, args: tuple, kwargs: dict) -> Any:
    """The body of every task: fn(*args, **kwargs) on CPUS_PER_JOB threads."""
    from scb_verify import kernels

    kernels.set_threads(CPUS_PER_JOB)
    return fn(*args, **kwargs)


class RayExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` over Ray tasks (see the module docstring)."""

    def __init__(self, jobs: int, address: str | None = None):
        import ray

        self._ray = ray
        address = address or os.environ.get("RAY_ADDRESS") or None
        self.owned = address is None
        if self.owned:
            ray.init(
                address="local",
                num_cpus=jobs,
                _node_ip_address="127.0.0.1",  # loopback only
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE,
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        self._task = ray.remote(
            num_cpus=CPUS_PER_JOB, max_retries=MAX_RETRIES, retry_exceptions=False
        )(_run_job)
        self._lock = threading.Lock()
        self._refs: dict[cf.Future, Any] = {}

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        ref = self._task.remote(fn, args, kwargs)
        future: cf.Future = cf.Future()
        with self._lock:
            self._refs[future] = ref
        future.add_done_callback(self._settled)
        ref.future().add_done_callback(lambda task: self._settle(future, task))
        return future

    def _settle(self, future: cf.Future, task: cf.Future) -> None:
        """Hand the task's outcome to the caller's future, a dead worker as
        :class:`~scb_verify.executors.WorkerDied` (nothing to do once it was cancelled)."""
        if task.cancelled():
            future.cancel()
            return
        exc = task.exception()
        if isinstance(exc, self._ray.exceptions.WorkerCrashedError):
            exc = WorkerDied(f"Ray: the worker crashed {MAX_RETRIES + 1} times")
        try:
            if exc is None:
                future.set_result(task.result())
            else:
                future.set_exception(exc)
        except cf.InvalidStateError:  # cancelled by the runner meanwhile
            pass

    def _settled(self, future: cf.Future) -> None:
        with self._lock:
            ref = self._refs.pop(future, None)
        if ref is not None and future.cancelled():
            self._ray.cancel(ref, force=True)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel the tasks still outstanding (on a cluster, nothing is left running), then
        shut the local instance down or disconnect from the cluster."""
        with self._lock:
            outstanding = list(self._refs)
        for future in outstanding:
            future.cancel()
        self._ray.shutdown()


def ray_executor(jobs: int) -> cf.Executor:
    """The registered factory: :class:`RayExecutor` at ``RAY_ADDRESS`` or a local instance."""
    return RayExecutor(jobs)


@hookimpl
def register_executors():
    return [
        ExecutorFactory(
            "ray",
            ray_executor,
            "Ray tasks: a local instance of --jobs CPUs, or the cluster at --address/"
            "RAY_ADDRESS (extra 'ray')",
        )
    ]
