"""scan_corpus: per-file audio facts, bad files reported, order and jobs independent."""

import numpy as np
import pyarrow as pa
import soundfile as sf

from cadence.drums import scan_corpus


def test_scan_reports_each_file_and_carries_on(tmp_path):
    paths = []
    for k, (rate, seconds, amp) in enumerate([(44100, 1.0, 0.5), (22050, 0.5, 0.1), (16000, 2.0, 0.25)]):
        p = tmp_path / f"{k}.wav"
        sf.write(p, np.full(int(rate * seconds), amp, dtype=np.float32), rate, subtype="FLOAT")
        paths.append(p)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"junk")
    paths.insert(1, bad)
    missing = tmp_path / "missing.wav"
    paths.append(missing)

    for jobs in (1, 2):
        t = scan_corpus(paths, jobs=jobs, memory_limit="1M", show_progress=False)
        assert isinstance(t, pa.Table)
        assert t.column("path").to_pylist() == [str(p) for p in paths]
        assert t.column("ok").to_pylist() == [True, False, True, True, False]
        errors = t.column("error").to_pylist()
        assert errors[0] is None and "bad.wav" in errors[1] and "missing.wav" in errors[4]
        assert t.column("sample_rate_hz").to_pylist()[2] == 22050
        np.testing.assert_allclose(t.column("duration_s").to_numpy()[[0, 2, 3]], [1.0, 0.5, 2.0])
        np.testing.assert_allclose(t.column("peak").to_numpy()[[0, 2, 3]], [0.5, 0.1, 0.25], rtol=1e-6)
        np.testing.assert_allclose(t.column("rms_dbfs").to_numpy()[0], 20 * np.log10(0.5), atol=1e-4)
