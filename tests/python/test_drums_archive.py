"""E-GMD read straight from its zip: the same records, byte for byte, as the extracted
directory (zip64, stored and deflate members); resume; damaged members as named rejects; the
summary and `sample drums --zip`."""

import json
import shutil
import struct
import zipfile

import pytest

from cadence import drums, summary
from cadence.cli import main
from cadence.drums.archive import write_zip
from cadence.drums.corpus import Corpus

CSV = "e-gmd-v1.0.0.csv"
TOP = "e-gmd-v1.0.0"


def _data_files(out):
    """Every shard file of a prepared directory, name -> bytes (journal, report and manifest
    carry times and paths; the records are in these)."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())
            if p.is_file() and p.name.startswith(("onsets-", "audio-", "files-", "records-"))}


@pytest.fixture(scope="module")
def zips(drum_corpus, tmp_path_factory):
    """The corpus as E-GMD packs it (deflate), and as zip64 with stored WAVs."""
    d = tmp_path_factory.mktemp("zips")
    deflated = write_zip(drum_corpus, d / "egmd.zip")
    # zip64 structures for every member (what a 90 GB archive has): the stdlib writes them
    # whenever a size or offset passes its limits, so the limits are lowered while writing.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zipfile, "ZIP64_LIMIT", 0)
        mp.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 0)
        stored = write_zip(drum_corpus, d / "egmd64.zip", stored=(".wav",))
    return {"deflate": deflated, "zip64": stored}


@pytest.fixture(scope="module")
def from_dir(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("dir") / "out"
    report = drums.prepare(drum_corpus, out, show_progress=False, jobs=2)
    return out, report


def test_zip64_archive_is_zip64(zips):
    data = zips["zip64"].read_bytes()
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data  # zip64 end record and locator
    with zipfile.ZipFile(zips["zip64"]) as z:
        methods = {i.filename.rsplit(".", 1)[-1]: i.compress_type for i in z.infolist()}
    assert methods == {"wav": zipfile.ZIP_STORED, "midi": zipfile.ZIP_DEFLATED, "csv": zipfile.ZIP_DEFLATED}


@pytest.mark.parametrize("kind", ["deflate", "zip64"])
def test_same_records_byte_for_byte(zips, from_dir, kind, tmp_path):
    out_dir, report_dir = from_dir
    out = tmp_path / "out"
    report = drums.prepare(zips[kind], out, show_progress=False, jobs=2)
    assert report["files_ok"] == report_dir["files_ok"] == 8
    assert report["records"] == report_dir["records"] > 0
    assert report["rejected"] == {}
    assert report["unpaired_files"] == report_dir["unpaired_files"]
    assert report["stages_s"]["unzip"] > 0
    mine, theirs = _data_files(out), _data_files(out_dir)
    assert set(mine) == set(theirs) and mine
    for name in theirs:
        assert mine[name] == theirs[name], name
    m_zip = json.loads((out / "manifest.json").read_text())
    m_dir = json.loads((out_dir / "manifest.json").read_text())
    assert m_zip == m_dir  # config (CSV name included), shard checksums, every input's status
    assert drums.verify(out) == []


def test_clips_layout_from_a_zip_equals_the_directory(zips, drum_corpus, tmp_path):
    kw = dict(layout="clips", codec="flac", limit=3, show_progress=False)
    drums.prepare(drum_corpus, tmp_path / "a", **kw)
    drums.prepare(zips["deflate"], tmp_path / "b", **kw)
    assert _data_files(tmp_path / "a") == _data_files(tmp_path / "b")


def test_resume_from_zip_matches_directory(zips, drum_corpus, tmp_path):
    """A run cut after two commits and resumed with the journal's options (as --resume does)
    ends with the bytes of one uninterrupted run from the directory."""
    kw = dict(shard_size=1, show_progress=False)  # one pair per shard: a commit per pair
    drums.prepare(drum_corpus, tmp_path / "dir", **kw)
    out = tmp_path / "zip"
    drums.prepare(zips["zip64"], out, **kw)
    lines = (out / "journal.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) == 1 + 8
    (out / "journal.jsonl").write_text("".join(lines[:3]))  # header + 2 commits survive
    opts = drums.journal_options(out, zips["zip64"])
    report = drums.prepare(zips["zip64"], out, resume=True, show_progress=False, **opts)
    assert report["segments"][-1]["inputs_this_run"] == 6
    assert _data_files(out) == _data_files(tmp_path / "dir")
    assert drums.verify(out) == []


def _rewrite(src, dst, change):
    """Copy a zip member by member; change(name, data) -> bytes, or None to leave it out."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info, data, compress_type=info.compress_type)


def test_bad_members_are_named_rejects(zips, drum_corpus, tmp_path):
    with open(drum_corpus / CSV) as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    wavs = [f"{TOP}/{r[10]}" for r in rows]
    absent, bomb, damaged = wavs[0], wavs[1], wavs[2]

    def change(name, data):
        if name == absent:
            return None
        if name == bomb:  # 64 MiB of silence, a few KB deflated: declared far above the limit
            return data[:44] + bytes(64 << 20)
        return data

    bad = tmp_path / "bad.zip"
    _rewrite(zips["zip64"], bad, change)
    # A bit flipped in the middle of a stored WAV: the CRC-32 no longer matches.
    raw = bytearray(bad.read_bytes())
    with zipfile.ZipFile(bad) as z:
        info = z.getinfo(damaged)
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
    data_at = info.header_offset + 30 + name_len + extra_len
    raw[data_at + info.file_size // 2] ^= 0x40
    bad.write_bytes(bytes(raw))

    report = drums.prepare(bad, tmp_path / "out", memory_limit="16M", show_progress=False)
    assert report["rejected"] == {"missing_audio": 1, "zip_too_large": 1, "zip_crc_mismatch": 1}
    assert report["files_ok"] == 5
    with open(tmp_path / "out" / "rejects.csv") as f:
        by_reason = {line.split(",")[1]: line for line in f.read().splitlines()[1:]}
    assert absent in by_reason["missing_audio"] and "not found in the archive" in by_reason["missing_audio"]
    assert bomb in by_reason["zip_too_large"] and "memory-limit" in by_reason["zip_too_large"]
    assert damaged in by_reason["zip_crc_mismatch"] and "CRC" in by_reason["zip_crc_mismatch"]
    # The summary reads the same archive and names the damaged and the absent file (its memory
    # limit, half of RAM, lets the 64 MiB member through; a scan under 16 MiB refuses it).
    s = summary.summarize_drums(bad, show_progress=False)
    assert {p for p, _ in s["audio_failed"]} == {absent, damaged}
    assert s["audio_ok"] == 6
    scan = drums.scan_corpus([bomb, wavs[3]], archive=bad, memory_limit="16M", show_progress=False).to_pydict()
    assert scan["ok"] == [False, True]
    assert "memory-limit" in scan["error"][0]


def test_lying_member_size_is_refused(zips, tmp_path):
    """A member declaring fewer bytes than its data inflates to is refused after at most one
    byte past its declared size (never an unbounded allocation)."""
    src = tmp_path / "one.zip"
    with zipfile.ZipFile(src, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.wav", bytes(8 << 20))
    raw = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo("a.wav")
    struct.pack_into("<I", raw, info.header_offset + 22, 1000)  # local header, uncompressed size
    central = raw.index(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, 1000)
    src.write_bytes(bytes(raw))
    corpus = Corpus(src)
    with pytest.raises(ValueError, match="a.wav"):
        corpus.read("a.wav", 1 << 30)


def test_truncated_zip_is_a_usage_error(zips, tmp_path, capsys):
    cut = tmp_path / "cut.zip"
    data = zips["deflate"].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.zip.*download it again"):
        drums.prepare(cut, tmp_path / "out", show_progress=False)
    assert not (tmp_path / "out").exists()
    assert main(["drums", "prepare", str(cut), str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cut.zip" in err and "Traceback" not in err
    assert main(["sample", "summary", str(cut), "-q"]) == 2


def test_csv_row_whose_path_leaves_the_root(zips, tmp_path):
    def change(name, data):
        if name.endswith(CSV):
            lines = data.decode().splitlines()
            first = lines[1].split(",")
            first[10] = "../../etc/passwd.wav"
            lines[1] = ",".join(first)
            return ("\n".join(lines) + "\n").encode()
        return data

    bad = tmp_path / "escape.zip"
    _rewrite(zips["deflate"], bad, change)
    report = drums.prepare(bad, tmp_path / "out", show_progress=False)
    assert report["rejected"] == {"path_outside_root": 1}


def test_summary_of_zip_equals_directory(zips, drum_corpus):
    a = summary.summarize_drums(drum_corpus, show_progress=False)
    b = summary.summarize_drums(zips["zip64"], show_progress=False)
    for key in ("pairs", "performances", "kits", "splits", "audio_ok", "audio_hours", "sample_rates_hz",
                "max_duration_mismatch_s", "mean_rms_dbfs", "missing_midi"):
        assert a[key] == b[key], key
    assert b["csv"].endswith(f"{TOP}/{CSV}")


def test_sample_drums_zip_cli(tmp_path, capsys):
    out = tmp_path / "sample.zip"
    args = ["sample", "drums", str(out), "--zip", "--performances", "1", "--kits", "1",
            "--min-duration", "2", "--max-duration", "3", "-q"]
    assert main(args) == 0
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert z.testzip() is None
    assert f"{TOP}/{CSV}" in names and sum(n.endswith(".wav") for n in names) == 1
    assert not list(tmp_path.glob(".*"))  # the rendering directory is gone
    assert main(args) == 2  # exists: refused without --force
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
    assert main(["sample", "summary", str(out), "-q"]) == 0
    assert "pairs            1" in capsys.readouterr().out
    report = drums.prepare(out, tmp_path / "prepared", show_progress=False)
    assert report["files_ok"] == 1 and report["rejected"] == {}


def test_zip_without_csv_pairs_members_by_stem(drum_corpus, tmp_path):
    d = tmp_path / "nocsv"
    shutil.copytree(drum_corpus, d)
    (d / CSV).unlink()
    z = write_zip(d, tmp_path / "nocsv.zip")
    a = drums.prepare(d, tmp_path / "a", show_progress=False)
    b = drums.prepare(z, tmp_path / "b", show_progress=False)
    assert a["files_ok"] == b["files_ok"] == 8
    assert _data_files(tmp_path / "a") == _data_files(tmp_path / "b")


def test_mutated_archives_never_crash(zips, tmp_path):
    """Random byte damage anywhere in a small zip (directory, headers, data): opening and reading
    every member either works or raises ValueError naming the archive; never a crash, never an
    allocation beyond the limit given."""
    import random

    src = tmp_path / "small.zip"
    with zipfile.ZipFile(zips["deflate"]) as z, zipfile.ZipFile(src, "w") as out:
        for info in z.infolist()[:4]:
            out.writestr(info, z.read(info)[:3000], compress_type=info.compress_type)
    good = src.read_bytes()
    rng = random.Random(12)
    outcomes = {"ok": 0, "error": 0}
    for i in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        path = tmp_path / f"m{i}.zip"
        path.write_bytes(bytes(data))
        try:
            corpus = Corpus(path)
            for name in corpus.files():
                try:
                    assert len(corpus.read(name, 1 << 20)) <= 1 << 20
                    outcomes["ok"] += 1
                except ValueError as e:
                    assert str(path) in str(e)
                    outcomes["error"] += 1
        except ValueError as e:
            assert str(path) in str(e)
            outcomes["error"] += 1
        path.unlink()
    assert outcomes["ok"] > 0 and outcomes["error"] > 0
