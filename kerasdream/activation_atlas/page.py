"""The activation atlas' web page: `<out>/activation_atlas.html`.

It browses every `<out>/activation_atlas/<layer>/manifest.json` of the
folder. As for the filter atlas, the data is a script
(`activation_atlas_data.js` sets `window.ACTIVATION_ATLAS`), so the page
opens from `file://` too; plain JavaScript, nothing fetched.
"""

from __future__ import annotations

import glob
import json
import os

from kerasdream import io
from kerasdream.site.template_files import copy_template

PAGE = "activation_atlas.html"
SCRIPT = "activation_atlas.js"
DATA_SCRIPT = "activation_atlas_data.js"


def atlases(out_dir: str) -> list[dict]:
    """The manifests of every layer's activation atlas in `out_dir`, by layer folder."""
    found = []
    for path in sorted(glob.glob(os.path.join(out_dir, "activation_atlas", "*",
                                              "manifest.json"))):
        manifest = io.read_json(path)
        if isinstance(manifest, dict) and isinstance(manifest.get("cells"), list):
            found.append(manifest)
    return found


def write_page(out_dir: str) -> str:
    """Write the page, its script and its data into `out_dir`; return the page's path."""
    data = {"atlases": atlases(out_dir),
            "site": os.path.isfile(os.path.join(out_dir, "atlas.js"))}
    with io.atomic_path(os.path.join(out_dir, DATA_SCRIPT)) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write("// Every activation atlas of this folder, for pages opened from file://\n"
                       f"window.ACTIVATION_ATLAS = {json.dumps(data, sort_keys=True)};\n")
    copy_template(out_dir, (PAGE, SCRIPT))
    return os.path.join(out_dir, PAGE)
