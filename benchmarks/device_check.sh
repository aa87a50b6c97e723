#!/usr/bin/env bash
# The device check, for one GPU machine (run from the repository root; at most 9 min 40 s).
# Each step is bounded by `timeout`, so one slow step cannot eat the others' time; every log
# goes to $OUT. Wheels the machine lacks (pebble, platformdirs) are installed from .whl/ if
# there (into /tmp/site, on PYTHONPATH).
#
#   setup     install the project without its dependencies (torch is the machine's), print
#             versions, compile the CPU kernels once (numba caches them)
#   tests     the tensor engine bit-identical to the numba kernel, on the CPU and on CUDA;
#             training on CUDA against the CPU engine; the device executor
#   paper     paper-scale training, GPU against the CPU engine on every core (target: ≥ 20×)
#   claims    check C3 C4 C5 --budget full --device cuda (target: ≤ 20 s), $OUT/full-cuda.json
#   bench     bench_engine.py --device cuda (target: < 2 min)
#   cpufull   the same claims on the 16 CPU cores, $OUT/full-cpu.json
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

claims() { # the CLI path: check on the device (target <= 20 s)
    $PY -m scb_verify check C3 C4 C5 --budget full --device cuda --jobs 16 -q --no-cache \
        --json "$OUT/full-cuda.json"
}

cpufull() { # the same claims on the machine's 16 CPU cores, for the time and the numbers
    $PY -m scb_verify check C3 C4 C5 --budget full --jobs 16 -q --no-cache \
        --json "$OUT/full-cpu.json"
}

: >"$OUT/summary.txt"
if compgen -G ".whl/*.whl" >/dev/null; then # carried wheels (pebble), as the device notes say
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export -f setup claims cpufull
export SCB_VERIFY_CACHE_DIR=/tmp/scb-verify-cache
export OUT PY
step setup 75 setup || { echo "setup failed: see $OUT/setup.log"; exit 1; }
step tests 40 $PY -m pytest -q -p no:cacheprovider tests/test_sampler.py tests/test_training.py \
    tests/test_device_executor.py -k "tensor_engine or splitmix or device"
step paper 50 $PY benchmarks/bench_engine.py --device cuda --paper
step claims 150 claims
step bench 80 $PY benchmarks/bench_engine.py --device cuda --threads 1
step cpufull 170 cpufull
cat "$OUT/summary.txt"
