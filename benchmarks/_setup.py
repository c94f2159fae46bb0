"""What every benchmark script does first: `import _setup`, before kerasdream or Keras.

- Puts this checkout on `sys.path` (and on `PYTHONPATH`, for the `python -m
  kerasdream` processes some scripts start), so `python benchmarks/X.py`
  measures this checkout's code, installed or not. The `benchmarks` folder
  goes on `sys.path` too, for the scripts that import one another.
- Without `KERAS_HOME` set, copies the shared offline weights
  (`../shared/keras-cache` beside the checkout) into a temporary
  `KERAS_HOME`, so Keras finds them without a download and writes nothing
  into the shared cache.
- Hides TensorFlow's C++ start-up log.

Scripts in `archive/` import it through `archive/_setup.py`.
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))    # benchmarks/
ROOT = os.path.dirname(HERE)                         # the checkout
RESULTS = os.path.join(HERE, "results")
SHARED_CACHE = os.path.normpath(os.path.join(ROOT, "..", "shared", "keras-cache"))

for _path in (HERE, ROOT):
    if _path not in sys.path:
        sys.path.insert(0, _path)
if ROOT not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
if "KERAS_HOME" not in os.environ and os.path.isdir(SHARED_CACHE):
    os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="kerasdream-benchmark-keras-home-")
    shutil.copytree(SHARED_CACHE, os.environ["KERAS_HOME"], dirs_exist_ok=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
