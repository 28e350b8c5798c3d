"""User class-mapping files: every malformed file is a ValueError that names it.

Regression inputs found while writing fuzz/mapping_fuzz.py (atheris; docs/RELIABILITY.md),
embedded as bytes: before the fix each escaped as another exception type, without the file's
name, or was silently accepted.
"""

import pytest

from cadence.drums.class_maps import load_class_map

BAD = [
    # (file bytes, what the message must say, what happened before)
    (b'{"kick": [99999999999]}', "lists pitch 99999999999, outside 0..127", "TypeError from the binding"),
    (b'{"k\\ud800": [36]}', "not valid Unicode", "TypeError from the binding"),
    (b"\xff\xfe{}", "not UTF-8 text", "UnicodeDecodeError without the file name"),
    (b"[" * 100_000, "not a usable JSON mapping", "RecursionError"),
    (b'{"a": [' + b"1" * 5000 + b"]}", "not a usable JSON mapping", "ValueError without the file name"),
    (b'{"kick": [36], "kick": [38]}', "class 'kick' appears twice", "the first 'kick' silently dropped"),
    (b'{"kick": [36, 36]}', "class 'kick' lists pitch 36 twice", "said 'in both kick and kick'"),
]


@pytest.mark.parametrize("data,message,before", BAD, ids=[b[2] for b in BAD])
def test_malformed_mapping_files_are_value_errors_naming_the_file(tmp_path, data, message, before):
    path = tmp_path / "user_map.json"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as e:
        load_class_map(str(path))
    assert str(path) in str(e.value) or "class map 'user_map'" in str(e.value)


def test_a_good_mapping_keeps_file_order(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text('{"high": [42, 46], "low": [36]}')
    m = load_class_map(str(path))
    assert m.name == "mine"
    assert m.classes == [("high", [42, 46]), ("low", [36])]
