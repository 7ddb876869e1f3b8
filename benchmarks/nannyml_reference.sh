#!/usr/bin/env bash
# Regenerate tests/performance/data/ (NannyML reference values and the dataset columns they were
# computed on) with benchmarks/nannyml_reference.py, in NannyML's own venv.
# See tests/performance/data/README.md. Not part of `make test`: the committed files are used.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
VENV=benchmarks/.venv-nannyml
REQ=benchmarks/requirements-nannyml.txt
STAMP=$VENV/.installed

# NannyML logs usage to Segment unless NML_DISABLE_USAGE_LOGGING is present (any value): it is
# checked on every event in nannyml/usage_logging.py. (Its usage-logging docs also show
# NML_DISABLE_USER_ANALYTICS / NML_DISABLE_USAGE_ANALYTICS in examples, which the 0.13.1 code does
# not read.) DO_NOT_TRACK is the generic opt-out; the script sets both again before importing.
export NML_DISABLE_USAGE_LOGGING=1
export DO_NOT_TRACK=1

# The venv is rebuilt only when the pins change (the stamp holds the requirements' hash).
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    echo "nannyml_reference: installing $REQ into $VENV" >&2
    test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$REQ"
    echo "$want" >"$STAMP"
fi

# One thread for LightGBM/OpenMP and BLAS, so DLE's nanny model is trained the same way anywhere.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    "$VENV/bin/python" benchmarks/nannyml_reference.py "$@"
