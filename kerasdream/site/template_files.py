"""The viewer's files: copied from the package into a site folder, atomically.

Both pages of a site (the atlas viewer and the activation atlas) are plain
files from `template/`; `dom.js` holds what their scripts share.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from importlib import resources

from kerasdream import io

SHARED_SCRIPT = "dom.js"


def copy_template(out_dir: str, names: Sequence[str]) -> None:
    """Copy `names` and the shared script from `template/` into `out_dir`."""
    template = resources.files("kerasdream.site").joinpath("template")
    for name in (SHARED_SCRIPT, *names):
        with resources.as_file(template.joinpath(name)) as source:
            with io.atomic_path(os.path.join(out_dir, name)) as temporary:
                shutil.copyfile(source, temporary)
