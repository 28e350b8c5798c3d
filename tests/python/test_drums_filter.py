"""Selecting records by split, kit and drummer (issue 22, point 4): one vocabulary across
`prepare(...)`, `DrumDataset.filter(...)` / `SequenceDataset.filter(...)` and the command line,
and a value that matches nothing is an error listing the values present, never an empty view."""

import inspect

import pytest

from cadence import drums
from cadence.cli import build_parser


@pytest.fixture(scope="module")
def prepared(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("f") / "out"
    drums.prepare(drum_corpus, out, show_progress=False)
    return out


def test_one_vocabulary_for_prepare_filter_and_the_command_line():
    names = {"split", "kits", "drummers"}
    assert names <= set(inspect.signature(drums.prepare).parameters)
    assert names <= set(inspect.signature(drums.DrumDataset.filter).parameters)
    assert names <= set(inspect.signature(drums.SequenceDataset.filter).parameters)
    assert "splits" not in inspect.signature(drums.prepare).parameters
    prepare = build_parser().parse_args(["drums", "prepare", "r", "o", "--split", "train", "--split", "test",
                                         "--kits", "3", "--drummers", "drummer1"])
    assert (prepare.split, prepare.kits, prepare.drummers) == (["train", "test"], ["3"], ["drummer1"])


@pytest.mark.parametrize("mode", ["records", "sequences"])
def test_unknown_values_raise_listing_those_present(prepared, mode):
    ds = drums.open(prepared, mode=mode)
    with pytest.raises(ValueError, match=r"split: 'training' not in this dataset; present: test, train, validation$"):
        ds.filter(split="training")
    with pytest.raises(ValueError, match=r"kits: '99' not in this dataset; present: .*Kit.* \(or kit numbers 1, 2,"):
        ds.filter(kits=[99])
    with pytest.raises(ValueError, match=r"drummers: 'drummer9' not in this dataset; present: drummer1"):
        ds.filter(drummers=["drummer9"])
    with pytest.raises(ValueError, match=r"pair_ids: 'nope' not in this dataset"):
        ds.filter(pair_ids=["nope"])


def test_kits_by_name_or_number_as_on_the_command_line(prepared):
    ds = drums.open(prepared)
    pairs = ds.labels.column("pair_id").to_pylist()
    kits = ds.labels.column("kit").to_pylist()
    number = pairs[0].rsplit("_", 1)[-1]  # E-GMD's kit number: the file name's "_N" suffix
    by_number = ds.filter(kits=[int(number)])
    assert len(by_number) == sum(p.rsplit("_", 1)[-1] == number for p in pairs) > 0
    assert len(ds.filter(kits=number)) == len(by_number)
    assert len(ds.filter(kits=kits[0])) == kits.count(kits[0])  # one name, not its letters
    train = ds.filter(split="train")
    with pytest.raises(ValueError, match="present: train$"):  # values present in this view
        train.filter(split="test")


def test_prepare_takes_the_same_names(drum_corpus, tmp_path):
    r = drums.prepare(drum_corpus, tmp_path / "a", split="train", kits=[1, 2, 3, 4, 5, 6, 7, 8],
                      show_progress=False)
    ds = drums.open(tmp_path / "a")
    assert r["files_ok"] == 2 and set(ds.labels.column("split").to_pylist()) == {"train"}
    assert drums.journal_options(tmp_path / "a", drum_corpus)["split"] == ["train"]
    with pytest.raises(ValueError, match="--split training: choose among train, validation, test"):
        drums.prepare(drum_corpus, tmp_path / "b", split="training")
    assert not (tmp_path / "b").exists()
