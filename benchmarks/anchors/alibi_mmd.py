"""Alibi Detect's MMDDrift (pytorch backend, CPU) on saved arrays; runs in benchmarks/.venv-alibi.

Usage: alibi_mmd.py REF.npy CUR.npy N_PERMUTATIONS -> one JSON line {seconds, p_value}.
"""

import json
import sys
import time

import numpy as np
import torch
from alibi_detect.cd import MMDDrift

torch.set_num_threads(2)
ref = np.load(sys.argv[1])
cur = np.load(sys.argv[2])
start = time.perf_counter()
detector = MMDDrift(ref, backend="pytorch", p_val=0.05, n_permutations=int(sys.argv[3]),
                    device="cpu")
result = detector.predict(cur)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "p_value": float(result["data"]["p_val"])}))
