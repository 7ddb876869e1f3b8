"""The one compiled part of driftwise: ADWIN's per-value path (src/driftwise/stream/_adwin.c).

Everything else is in pyproject.toml. The extension is optional: where no C compiler is found
the install goes on and ADWIN runs its pure-Python core (same alarms, same state).
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
        )
    ]
)
