#!/usr/bin/env bash
# Benchmark driftwise against Evidently and the NumPy/SciPy floor; `make bench` calls this
# after `make setup`. See benchmarks/README.md for what is measured and the BENCH_* knobs.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
VENV_PY=.venv/bin/python
ANCHORS=benchmarks/.venv-anchors
ANCHORS_REQ=benchmarks/requirements-anchors.txt
ANCHORS_STAMP=$ANCHORS/.installed

if [ ! -x "$VENV_PY" ]; then
    echo "bench: $VENV_PY not found; run \`make setup\` (or \`make bench\`)" >&2
    exit 1
fi

# GNU time does the measuring; the shell keyword `time` reports no memory.
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq time
    else
        echo "bench: GNU time (/usr/bin/time) is required: apt-get install time" >&2
        exit 1
    fi
fi

# The anchors live in their own venv so their pins never touch driftwise's. The stamp holds
# the hash of the requirements file: editing the pins reinstalls, nothing else does.
want="$(sha256sum "$ANCHORS_REQ" | cut -d' ' -f1)"
if [ ! -f "$ANCHORS_STAMP" ] || [ "$(cat "$ANCHORS_STAMP")" != "$want" ]; then
    echo "bench: installing the anchors into $ANCHORS"
    test -x "$ANCHORS/bin/python" || "$PYTHON" -m venv "$ANCHORS"
    "$ANCHORS/bin/python" -m pip install --quiet --upgrade pip
    "$ANCHORS/bin/python" -m pip install --quiet -r "$ANCHORS_REQ"
    echo "$want" >"$ANCHORS_STAMP"
fi

sizes="${BENCH_SIZES:-10000 100000 1000000}"
# shellcheck disable=SC2086  # the sizes are separate arguments
"$VENV_PY" benchmarks/make_data.py benchmarks/.data $sizes

status=0
"$VENV_PY" benchmarks/harness.py || status=$?

# Sequential detectors (driftwise.stream) side by side with River; BENCH_STREAM=0 skips it.
if [ "${BENCH_STREAM:-1}" != 0 ]; then
    "$VENV_PY" benchmarks/stream_bench.py || status=$?
fi

# CUSUM and EWMA on serially correlated in-control values (real Elec2/INSECTS series and
# simulated AR(1)), with and without the long-run correction; rewrites the tables in
# docs/stream.md. BENCH_AUTOCORRELATION=0 skips it.
if [ "${BENCH_AUTOCORRELATION:-1}" != 0 ] && [ -d ../shared/data ]; then
    echo "bench: autocorrelation"
    "$VENV_PY" benchmarks/autocorrelation.py || status=$?
fi

# Change points on real series with documented changes: driftwise.stream and River side by
# side (F1 with a margin of 5, false alarms, detection delay); one JSON line per series and
# detector in benchmarks/.results/, the table in benchmarks/README.md. Needs ../shared/data
# (and statsmodels, from the anchors' venv, for the Nile). BENCH_CHANGEPOINTS=0 skips it.
if [ "${BENCH_CHANGEPOINTS:-1}" != 0 ] && [ -d ../shared/data ]; then
    echo "bench: change points"
    mkdir -p benchmarks/.results
    "$VENV_PY" benchmarks/changepoints.py \
        >"benchmarks/.results/changepoints-$(date -u +%Y%m%dT%H%M%SZ).jsonl" || status=$?
fi

# Outlier detectors (driftwise.detect.outliers) side by side with PyOD's IForest, KNN and MCD
# (PyOD from the anchors' venv): fit time, batch throughput, one-record latency; one JSON line
# per measurement in benchmarks/.results/, the table in benchmarks/README.md.
# BENCH_OUTLIERS=0 skips it.
if [ "${BENCH_OUTLIERS:-1}" != 0 ]; then
    echo "bench: outliers"
    mkdir -p benchmarks/.results
    "$VENV_PY" benchmarks/outliers_bench.py \
        >"benchmarks/.results/outliers-$(date -u +%Y%m%dT%H%M%SZ).jsonl" || status=$?
fi

# The MMD test against Alibi Detect (its own venv: numpy<2 there); BENCH_MMD=0 skips it.
if [ "${BENCH_MMD:-1}" != 0 ]; then
    ALIBI=benchmarks/.venv-alibi
    ALIBI_REQ=benchmarks/requirements-alibi.txt
    want_alibi="$(sha256sum "$ALIBI_REQ" | cut -d' ' -f1)"
    if [ ! -f "$ALIBI/.installed" ] || [ "$(cat "$ALIBI/.installed")" != "$want_alibi" ]; then
        echo "bench: installing Alibi Detect into $ALIBI"
        test -x "$ALIBI/bin/python" || "$PYTHON" -m venv "$ALIBI"
        "$ALIBI/bin/python" -m pip install --quiet --upgrade pip
        "$ALIBI/bin/python" -m pip install --quiet -r "$ALIBI_REQ"
        echo "$want_alibi" >"$ALIBI/.installed"
    fi
    "$VENV_PY" benchmarks/mmd_bench.py || status=$?
fi

# The service (driftwise serve): batch ingest, single-record latency at 200 req/s and the
# evaluation of a 10,000-row window, on SQLite and on a throwaway PostgreSQL; each script
# prints one JSON line, kept in benchmarks/.results/service-<UTC time>/, and
# service_report.py rewrites the service table of benchmarks/README.md from them.
# BENCH_SERVICE=0 skips them; BENCH_SERVICE_BACKENDS chooses the stores.
if [ "${BENCH_SERVICE:-1}" != 0 ]; then
    service_out="benchmarks/.results/service-$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "$service_out"
    for backend in ${BENCH_SERVICE_BACKENDS:-sqlite postgresql}; do
        for bench in ingest latency window; do
            echo "bench: service $bench on $backend"
            "$VENV_PY" "benchmarks/service_$bench.py" --backend "$backend" \
                >"$service_out/$bench-$backend.json" || status=$?
        done
        echo "bench: service screen on $backend"
        "$VENV_PY" benchmarks/service_latency.py --backend "$backend" --path screen \
            --phases idle >"$service_out/screen-$backend.json" || status=$?
        echo "bench: service ingest on $backend, 2 workers"
        "$VENV_PY" benchmarks/service_ingest.py --backend "$backend" --workers 2 \
            >"$service_out/ingest2-$backend.json" || status=$?
    done
    "$VENV_PY" benchmarks/service_report.py "$service_out" || status=$?
fi
# Alert quality on the shared real data (false pages without change, detection delay with
# one): docs/alerts.md holds its table. BENCH_ALERTS=0 skips it.
if [ "${BENCH_ALERTS:-1}" != 0 ] && [ -d ../shared/data ]; then
    echo "bench: alert quality"
    mkdir -p benchmarks/.results
    "$VENV_PY" benchmarks/alert_quality.py \
        --json "benchmarks/.results/alert-quality-$(date -u +%Y%m%dT%H%M%SZ).jsonl" \
        || status=$?
fi
exit "$status"
