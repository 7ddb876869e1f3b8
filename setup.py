"""driftwise's four small compiled parts; everything else is in pyproject.toml.

- ADWIN's per-value path (src/driftwise/stream/_adwin.c);
- the lattice-path count of the exact KS test on tied samples (src/driftwise/stats/_ks_ties.c);
- one linear pass over two sorted samples for the KS statistic and the Wasserstein effect
  (src/driftwise/stats/_scan.c);
- the Isolation Forest walk and the k-nearest-neighbour selection
  (src/driftwise/detect/outliers/_kernels.c).

All are optional: where no C compiler is found the install goes on and the same
computations run in Python/NumPy (same alarms, same p-values; slower).
"""

import sys

from setuptools import Extension, setup

# Keep the floating-point order of the Python core: no fused multiply-add contraction.
FLAGS = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off"]

setup(
    ext_modules=[
        Extension(
            "driftwise.stream._adwin",
            sources=["src/driftwise/stream/_adwin.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
        Extension(
            "driftwise.stats._ks_ties",
            sources=["src/driftwise/stats/_ks_ties.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
        Extension(
            "driftwise.stats._scan",
            sources=["src/driftwise/stats/_scan.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
        Extension(
            "driftwise.detect.outliers._kernels",
            sources=["src/driftwise/detect/outliers/_kernels.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
    ]
)
