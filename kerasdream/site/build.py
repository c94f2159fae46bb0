"""The atlas as a static web site: `atlas.json`, `atlas.js` and the viewer.

`write_site(out_dir, spec)` gathers every layer folder of `out_dir` (its
`metrics.json`, and `examples.json` where dataset examples were made) into
the manifest `atlas.json`, and copies the viewer (`template/`: one HTML
page, one script, one style sheet; no CDN, nothing fetched). Paths in the
manifest are relative to the site, so it opens from disk or any static host.

A page opened from `file://` may not `fetch()` a JSON file, but it may load
a script: `atlas.js` is the same manifest assigned to `window.ATLAS`.
Layers dreamed by earlier runs into the same folder stay in the site, so
`atlas` can add layers to an existing one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from kerasdream import io
from kerasdream.network.bases import BaseSpec, list_layers, load_base
from kerasdream.examples import EXAMPLES_FILE
from kerasdream.site.template_files import copy_template
from kerasdream.runs.layout import GRID_FILE, METRICS_FILE, layer_folder, png_name

MANIFEST = "atlas.json"
MANIFEST_SCRIPT = "atlas.js"
TEMPLATE_FILES = ("index.html", "viewer.js", "viewer.css")
METRIC_KEYS = ("final_activation", "start_activation", "rank", "robust_rank", "natural_ratio",
               "robust_natural_ratio", "path_similarity", "path_floor", "path_layer",
               "off_path", "steps", "status")


def _layer_folders(out_dir: str) -> list[str]:
    return sorted(name for name in os.listdir(out_dir)
                  if os.path.isfile(os.path.join(out_dir, name, METRICS_FILE)))


def _relative(out_dir: str, path: str) -> str:
    return os.path.relpath(path, out_dir).replace(os.sep, "/")


def layer_entry(out_dir: str, folder: str) -> dict[str, Any]:
    """One layer of the manifest, from the files in its folder."""
    metrics = io.read_json(os.path.join(out_dir, folder, METRICS_FILE))
    metrics = metrics if isinstance(metrics, dict) else {}  # a damaged one: shown empty
    if not isinstance(metrics.get("filters"), dict):
        metrics["filters"] = {}
    examples = io.read_json(os.path.join(out_dir, folder, EXAMPLES_FILE)) or {}
    examples = examples if isinstance(examples, dict) else {}
    found = examples.get("filters", {})
    found = found if isinstance(found, dict) else {}
    names = metrics.get("names") if isinstance(metrics.get("names"), dict) else {}
    filters = []
    # A damaged summary shows what it holds: entries of filters with a number and a dict.
    kept = {key: entry for key, entry in metrics["filters"].items()
            if isinstance(key, str) and key.isdigit() and isinstance(entry, dict)}
    for key in sorted(kept, key=int):
        entry = kept[key]
        dream = os.path.join(out_dir, folder, png_name(int(key)))
        filters.append({
            "filter": int(key),
            "name": names.get(key),  # a class dream's class name, else None
            "dream": _relative(out_dir, dream) if os.path.isfile(dream) else None,
            "examples": found.get(key, []),
            "page": f"index.html#/{folder}/{key}",
            "metrics": {k: entry.get(k) for k in METRIC_KEYS},
        })
    grid = os.path.join(out_dir, folder, GRID_FILE)
    reference = metrics.get("reference")
    return {
        "name": metrics["layer"] if isinstance(metrics.get("layer"), str) else folder,
        "folder": folder,
        "channels": (metrics["channels"] if isinstance(metrics.get("channels"), int)
                     and not isinstance(metrics.get("channels"), bool) else None),
        "grid": _relative(out_dir, grid) if os.path.isfile(grid) else None,
        "examples": ({k: examples.get(k) for k in ("folder", "images", "skipped")}
                     if examples else None),
        "filters": filters,
        # The photos the natural ratio and the path check were measured against.
        "reference": ({k: reference.get(k) for k in ("photos", "count")}
                      if isinstance(reference, dict) else None),
    }


def build_manifest(out_dir: str, spec: BaseSpec,
                   layers: Sequence[str] | None = None) -> dict[str, Any]:
    """The manifest of every layer folder in `out_dir`, in the network's order
    (`layers`, if given, must be among them: they were just written)."""
    folders = _layer_folders(out_dir)
    for layer in layers or []:
        if layer_folder(layer) not in folders:
            folders.append(layer_folder(layer))
    order = {layer_folder(info.path): i for i, info in enumerate(list_layers(load_base(spec)))}
    folders.sort(key=lambda f: (order.get(f, len(order)), f))
    entries = [layer_entry(out_dir, folder) for folder in folders
               if os.path.isfile(os.path.join(out_dir, folder, METRICS_FILE))]
    add_circuits(load_base(spec), entries)
    page = os.path.join(out_dir, "activation_atlas.html")
    return {
        "format": 1,
        "network": {**spec.get_config(), "describe": spec.describe()},
        "layers": entries,
        "activation_atlas": "activation_atlas.html" if os.path.isfile(page) else None,
    }


def add_circuits(base, entries: list[dict[str, Any]]) -> None:
    """Each filter's strongest inputs and outputs (`kerasdream.circuits`), with
    the folder of the layer each one is in, as `filter["circuits"]`."""
    from kerasdream.circuits import layer_circuits
    from kerasdream.errors import DreamError

    try:
        found = layer_circuits(base, [entry["name"] for entry in entries])
    except DreamError:  # a layer folder this network no longer has: no circuits
        found = {}
    for entry in entries:
        layer = found.get(entry["name"], {})
        for item in entry["filters"]:
            circuit = layer.get(item["filter"], {"inputs": [], "outputs": []})
            item["circuits"] = {side: [{**link, "folder": layer_folder(link["layer"])}
                                       for link in links] for side, links in circuit.items()}


def write_site(out_dir: str, spec: BaseSpec, layers: Sequence[str] | None = None) -> str:
    """Write `atlas.json`, `atlas.js` and the viewer into `out_dir`; return
    the path of its `index.html`."""
    manifest = build_manifest(out_dir, spec, layers)
    io.write_json(os.path.join(out_dir, MANIFEST), manifest)
    script = ("// The content of atlas.json, for pages opened from file://\n"
              f"window.ATLAS = {json.dumps(manifest, sort_keys=True)};\n")
    with io.atomic_path(os.path.join(out_dir, MANIFEST_SCRIPT)) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(script)
    copy_template(out_dir, TEMPLATE_FILES)
    return os.path.join(out_dir, "index.html")
