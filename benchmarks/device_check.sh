#!/usr/bin/env bash
# Issue 23's device check, for one GPU machine (run from the repository root; at most 6 min 10 s,
# about 4 expected). Each step is bounded by `timeout`, so one slow step cannot eat the others'
# time; every log goes to $OUT (7 files). Wheels the machine lacks (pebble) are installed from
# .whl/ if there (into /tmp/site, on PYTHONPATH).
#
#   0 setup     install the project without its dependencies (torch is the machine's), print
#               versions, compile the CPU kernels once (numba caches them)
#   1 tests     the tensor engine bit-identical to the numba kernel, on the CPU and on CUDA;
#               training on CUDA against the CPU engine; the device executor
#   2 bench     bench_engine.py --device cuda (target: < 2 min)
#   3 paper     paper-scale training, GPU against the CPU engine on every core (target: ≥ 20×)
#   4 claims    C3 C4 C5 at the full budget through the device executor (target: ≤ 20 s),
#               results file in $OUT/full-cuda.json
set -u
OUT=${OUT:-/tmp/scb-device-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}

step() { # step NAME LIMIT_S COMMAND...: run (a function too), log to $OUT/NAME.log, print its tail
    local name=$1 limit=$2
    shift 2
    local t0=$SECONDS
    echo "== $name (limit ${limit} s)"
    timeout -k 5 "$limit" bash -c '"$@"' _ "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    echo "   $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$OUT/summary.txt"
    tail -n 25 "$OUT/$name.log"
    return $rc
}

setup() {
    $PY -m pip install -q --no-index --no-deps --no-build-isolation -e . ||
        $PY -m pip install -q --no-index --no-deps --no-build-isolation . || return 1
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    $PY -P - <<'EOF'
import importlib, platform, torch
print("python", platform.python_version(), "| torch", torch.__version__, "| cuda", torch.version.cuda,
      "|", torch.cuda.get_device_name() if torch.cuda.is_available() else "NO CUDA DEVICE")
for name in ("numpy", "numba", "scipy", "sympy", "pluggy", "pebble", "tqdm", "hypothesis", "pytest"):
    try:
        print(f"  {name} {importlib.import_module(name).__version__}")
    except Exception as e:
        print(f"  {name} MISSING ({e})")
import scb_verify
from scb_verify.registry import load_registry
from scb_verify.runs import RunSpec
from scb_verify.task import make_task
from scb_verify.training import train
print("scb_verify", scb_verify.__version__, scb_verify.__file__)
reg = load_registry()
print("executors:", sorted(reg.executors))
train(reg.algorithm("pppd"), [RunSpec(make_task(5, 64, 2), batch=256, samples=2560)])  # compile
print("kernels compiled")
EOF
}

claims() {
    $PY -P - "$OUT" <<'EOF'
import json, sys, time
from scb_verify.device_executor import device_executor
from scb_verify.registry import load_registry
from scb_verify.runner import run_claims
from scb_verify.schema import results_document

reg = load_registry()
claims = [reg.claim(c) for c in ("C3", "C4", "C5")]
t0 = time.perf_counter()
done = lambda r: print(f"  {r.id} done at {time.perf_counter() - t0:.1f} s: {r.status.value}")
with device_executor(16, "cuda") as executor:
    reports = run_claims(claims, budget="full", executor=executor, on_done=done)
wall = time.perf_counter() - t0
for r in reports:
    err = (r.error or "").strip().splitlines()[-1:]
    print(f"{r.id} {r.status.value} runs {r.runs} samples {r.samples:,} {r.wall_time:.1f} s {err}")
    for c in r.checks:
        print(f"   {c.label}: {c.status.value}: {c.summary[:160]}")
print(f"check C3 C4 C5 --budget full on cuda: {wall:.1f} s (target <= 20 s)")
doc = results_document(reports, budget="full", algorithm=None, control=False, wall_time=wall)
with open(f"{sys.argv[1]}/full-cuda.json", "w") as f:
    json.dump(doc, f, indent=1)
EOF
}

: >"$OUT/summary.txt"
if compgen -G ".whl/*.whl" >/dev/null; then # carried wheels (pebble), as the device notes say
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export -f setup claims
export OUT PY
step setup 75 setup || { echo "setup failed: see $OUT/setup.log"; exit 1; }
step tests 45 $PY -m pytest -q -p no:cacheprovider tests/test_sampler.py tests/test_training.py \
    tests/test_device_executor.py -k "tensor_engine or splitmix or device"
step bench 100 $PY benchmarks/bench_engine.py --device cuda --threads 1
step paper 60 $PY benchmarks/bench_engine.py --device cuda --paper
step claims 90 claims
cat "$OUT/summary.txt"
