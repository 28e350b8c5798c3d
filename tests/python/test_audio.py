"""Audio decoding: values equal libsndfile's via the soundfile package, zero-copy arrays."""

import gc

import numpy as np
import pytest
import soundfile as sf

from cadence import audio


@pytest.fixture
def stereo_wav(tmp_path):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((30_000, 2)) * 0.2).clip(-1, 1)
    path = tmp_path / "s.wav"
    sf.write(path, x, 32000, subtype="PCM_16")
    return path


def test_decode_matches_soundfile(stereo_wav):
    ref = sf.read(stereo_wav, dtype="float32")[0]
    stereo, info = audio.decode(stereo_wav, mono=False)
    mono, _ = audio.decode(stereo_wav)
    assert stereo.dtype == np.float32 and stereo.shape == (30_000, 2)
    np.testing.assert_array_equal(stereo, ref)
    np.testing.assert_allclose(mono, ref.mean(axis=1), rtol=0, atol=1e-7)
    assert info == {"frames": 30_000, "sample_rate_hz": 32000, "channels": 2,
                    "duration_s": 30_000 / 32000, "container": info["container"],
                    "encoding": info["encoding"]}
    assert "WAV" in info["container"] and "16" in info["encoding"]


def test_decoded_array_owns_the_engine_buffer(stereo_wav):
    x, _ = audio.decode(stereo_wav)
    assert not x.flags.owndata  # a view of the decoder's buffer, kept alive by its owner
    assert x.base is not None
    y = x[1000:2000]
    del x
    gc.collect()
    assert y.shape == (1000,) and np.isfinite(y).all()


def test_flac_decodes(tmp_path):
    x = np.sin(np.arange(8000) / 10).astype(np.float32) * 0.5
    sf.write(tmp_path / "a.flac", x, 16000, subtype="PCM_16")
    y, info = audio.decode(tmp_path / "a.flac")
    assert info["sample_rate_hz"] == 16000
    np.testing.assert_allclose(y, x, atol=1 / 32768)


@pytest.mark.parametrize("content", [b"", b"not audio at all" * 10, b"RIFF\x00\x00\x00\x00WAVE"])
def test_bad_files_raise_audio_error_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(audio.AudioError, match="bad.wav"):
        audio.decode(path)
    with pytest.raises(ValueError):  # AudioError is a ValueError
        audio.probe(path)


def test_decode_bytes_matches_soundfile(tmp_path):
    import io

    x = (np.sin(np.arange(5000) / 7) * 0.4).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, x, 22050, format="FLAC", subtype="PCM_16")
    y = audio.decode_bytes(buf.getvalue(), "clip-7")
    assert y.shape == (5000,) and y.dtype == np.float32
    np.testing.assert_array_equal(y, sf.read(io.BytesIO(buf.getvalue()), dtype="float32")[0])
    with pytest.raises(audio.AudioError, match="clip-8"):
        audio.decode_bytes(b"fLaC but broken", "clip-8")
