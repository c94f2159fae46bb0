"""Commit records: a record is read only if whole, and checked against its files."""

import json

from kerasdream.runs import records


def write(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def whole(png, model):
    return {"filter": 0, "steps": 2, "status": "ok", "settings": {}, "resumed_at": [],
            "png_sha256": records.sha256_of(png), "model_sha256": records.sha256_of(model)}


def test_damaged_records_are_named_not_trusted(tmp_path):
    assert records.read_record(str(tmp_path / "none.json")) is None
    assert records.read_record(write(tmp_path / "a.json", "{not json")) == \
        "unreadable (JSONDecodeError)"
    assert records.read_record(write(tmp_path / "b.json", [])) == "a JSON list, not a record"
    png, model = write(tmp_path / "f.png", "png"), write(tmp_path / "f.keras", "model")
    good = whole(png, model)
    assert records.read_record(write(tmp_path / "c.json", good)) == good
    assert records.read_record(write(tmp_path / "d.json", {**good, "steps": "twenty"})) == \
        "its 'steps' is 'twenty', not a int"
    assert records.read_record(write(tmp_path / "e.json", {**good, "steps": True})) == \
        "its 'steps' is True, not a int"


def test_files_must_match_the_record_byte_for_byte(tmp_path):
    png, model = write(tmp_path / "f.png", "png"), write(tmp_path / "f.keras", "model")
    record = whole(png, model)
    assert records.check_files(record, png, model) is None
    write(tmp_path / "f.keras", "mod")  # truncated
    assert "f.keras does not match the record" in records.check_files(record, png, model)
    (tmp_path / "f.png").unlink()
    assert records.check_files(record, png, model) == "its PNG f.png is missing"
    assert records.move_aside(model, ".corrupt") == model + ".corrupt"
    assert records.move_aside(model, ".corrupt") is None
