"""The archived scripts' `import _setup`: runs the live `benchmarks/_setup.py`."""

import os
import runpy

_LIVE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_setup.py")
globals().update({k: v for k, v in runpy.run_path(_LIVE).items() if not k.startswith("__")})
