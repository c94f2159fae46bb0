"""Commit records: one JSON file per dream, tying its PNG and its model together.

A gallery dream is three files: `filter_<k>.png`, its per-filter model and
its record `filter_<k>.json`. The record is written last and holds the
SHA-256 of the other two, the full settings and the steps (with the step
counts it was resumed at), so it is the commit: a PNG or model without a
matching record was left by an interrupted or another run. Every rerun
checks each record against its files; whatever does not match is moved
aside (`*.corrupt` when damaged, `*.stale` when whole but not this run's)
and redone. `metrics.json` is the layer's summary, written from the records
(which a run keeps in memory).

Light on purpose (no keras): a cluster driver and its workers can read it.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from kerasdream.defaults import SKIMAGE_REFERENCE
from kerasdream.runs.layout import RECORD_PATTERN

# Fields a record must have, with their JSON types.
REQUIRED = {"filter": int, "steps": int, "status": str, "settings": dict,
            "png_sha256": str, "model_sha256": str, "resumed_at": list}


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_record(path: str) -> dict[str, Any] | str | None:
    """The record at `path`; None if there is none; a reason (str) if it is damaged."""
    try:
        with open(path, encoding="utf-8") as file:
            record = json.load(file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        return f"unreadable ({type(error).__name__})"
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not a record"
    for field, kind in REQUIRED.items():
        value = record.get(field)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"its {field!r} is {value!r}, not a {kind.__name__}"
    if record["steps"] < 0 or not all(isinstance(s, int) for s in record["resumed_at"]):
        return f"its steps are invalid ({record['steps']!r}, resumed at {record['resumed_at']!r})"
    return record


def reference_key(record: dict[str, Any]) -> str:
    """The key of the photos a record's dream was scored against ('skimage'
    for records written before references had keys)."""
    return record.get("reference") or SKIMAGE_REFERENCE


def check_files(record: dict[str, Any], png: str, model: str) -> str | None:
    """None if both files exist with the record's hashes, else what is wrong."""
    for what, path, key in (("PNG", png, "png_sha256"), ("model", model, "model_sha256")):
        if not os.path.isfile(path):
            return f"its {what} {os.path.basename(path)} is missing"
        try:
            digest = sha256_of(path)
        except OSError as error:
            return f"its {what} {os.path.basename(path)} is unreadable ({error.strerror})"
        if digest != record[key]:
            return f"its {what} {os.path.basename(path)} does not match the record (damaged " \
                   f"or written by another run)"
    return None


def move_aside(path: str, suffix: str) -> str | None:
    """Rename `path` to `path + suffix` (replacing an older one); the new name, or None."""
    if not os.path.lexists(path):
        return None
    os.replace(path, path + suffix)
    return path + suffix


def folder_records(folder: str) -> dict[int, dict[str, Any] | str]:
    """Every record in `folder` by filter: the record, or why it is damaged (str).

    One pass over the folder: a run reads it once and keeps the records in memory.
    """
    found: dict[int, dict[str, Any] | str] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return found
    for name in names:
        match = RECORD_PATTERN.match(name)
        if match:
            record = read_record(os.path.join(folder, name))
            if record is not None:  # not removed meanwhile
                found[int(match.group(1))] = record
    return found
