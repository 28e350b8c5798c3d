"""Train a small drum onset detector on prepared records, end to end, and score it as the field does.

    python examples/train_onsets.py                  # ~3-5 minutes on 2 CPU cores; CUDA if present
    python examples/train_onsets.py --out out/onsets --epochs 40 --device cuda

1. Makes the sample corpus (``cadence sample drums``: E-GMD-shaped MIDI + 44.1 kHz WAV, rendered
   through the 8 drum kits of a GM soundfont) and prepares it (``cadence.drums.prepare``, index
   layout, ADTOF's 5 classes).
2. Opens it in sequences mode: 4 s windows at random offsets, a 64-band log-mel on a 10 ms frame
   grid and onset targets per frame, computed in the engine inside the DataLoader's workers.
3. Trains a small convolutional network (2-D convolutions over the spectrogram, then dilated 1-D
   convolutions over time) with a per-frame, per-class sigmoid.
4. Picks peaks per class (thresholds chosen on the validation split) and scores the onsets of the
   test split with ``mir_eval.onset.f_measure`` (50 ms window), per class and overall, on kits
   the model never heard (``--held-out-kits``) and on the kits it trained on.
5. Prints the table and saves a figure: a spectrogram excerpt of a held-out file with the
   network's activations, the picked peaks and the reference onsets.

The training split never shares a performance with the test split (the splits are per
performance, as in E-GMD), and the held-out kits are left out of training and validation.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import mir_eval
import numpy as np
import torch
from torch import nn

from cadence import drums
from cadence.atomic import atomic_path
from cadence.sample import drums as sample_drums

SPEC = drums.MelSpec(n_fft=1024, n_mels=64, fmin=30.0, fmax=11025.0)  # log-mel (dB), librosa's conventions
WINDOW_S = 50  # mir_eval's default and the field's convention: an onset within 50 ms is found
PLOT_CLASSES = ("bass_drum", "snare", "hihat")


def make_data(out: Path, performances: int, kits: int, seed: int, min_s: float, max_s: float) -> Path:
    """The sample corpus and its prepared records (kept between runs)."""
    corpus, prepared = out / "corpus", out / "prepared"
    if not (corpus / sample_drums.CSV_NAME).exists():
        sample_drums.generate(corpus, performances=performances, kits=kits, seed=seed,
                              min_duration_s=min_s, max_duration_s=max_s)
    if not (prepared / drums.JOURNAL).exists():
        drums.prepare(corpus, prepared, layout="index", mapping="adtof5", show_progress=False)
    return prepared


class OnsetNet(nn.Module):
    """Log-mel frames (batch, frames, bands) -> onset logits (batch, frames, classes)."""

    def __init__(self, n_bands: int, n_classes: int):
        super().__init__()
        self.front = nn.Sequential(  # local time-frequency patterns, then bands pooled
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d((4, 1)),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d((2, 1)))
        width = 16 * (n_bands // 8)
        self.back = nn.Sequential(  # +-7 frames of context over time
            nn.Conv1d(width, 64, 5, padding=2), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, 64, 3, padding=2, dilation=2), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, 64, 3, padding=4, dilation=4), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Conv1d(64, n_classes, 1))
        self.register_buffer("scale", torch.tensor([0.0, 1.0]))  # input mean, std (set from data)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = ((x - self.scale[0]) / self.scale[1]).transpose(1, 2).unsqueeze(1)  # (b, 1, bands, frames)
        x = self.front(x).flatten(1, 2)
        return self.back(x).transpose(1, 2)


def train(prepared: Path, held_out: list[str], *, epochs: int, batch_size: int, workers: int, length_s: float,
          device: torch.device, seed: int = 0, log=print) -> tuple[OnsetNet, list[float]]:
    """Train on the train split without the held-out kits; returns the model and the loss of
    every step."""
    torch.manual_seed(seed)
    ds = drums.open(prepared, mode="sequences", length_s=length_s, features=SPEC, target_widening=(0.5,),
                    offsets="random", seed=seed)
    labels = drums.open(prepared).labels.select(["kit", "split"]).to_pydict()
    kits = sorted({k for k, s in zip(labels["kit"], labels["split"]) if s == "train"} - set(held_out))
    train_ds = ds.filter(split="train", kits=kits)
    model = OnsetNet(len(ds.band_hz), len(ds.class_names)).to(device)
    probe = train_ds.read_batch(range(min(len(train_ds), 32)))["features"]
    model.scale.copy_(torch.tensor([probe.mean(), probe.std() + 1e-6]))
    # Onsets are rare (a few % of frames): weigh them up so the network does not learn silence.
    pos_weight = torch.full((len(ds.class_names),), 4.0, device=device)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    # Sequence models: whole windows, shuffled; workers compute the features (persistent_workers
    # stays off so that each epoch's workers see set_epoch's new random offsets).
    loader = torch.utils.data.DataLoader(train_ds, batch_size=batch_size, shuffle=True, drop_last=True,
                                         num_workers=workers, collate_fn=drums.collate,
                                         pin_memory=device.type == "cuda")
    steps = epochs * len(loader)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(steps, 1))
    losses = []
    for epoch in range(epochs):
        train_ds.set_epoch(epoch)
        model.train()
        t0 = time.perf_counter()
        for b in loader:
            x = b["features"].to(device, non_blocking=True)
            y = b["onset_roll"].to(device, non_blocking=True)
            x = x + torch.empty(len(x), 1, 1, device=device).uniform_(-12, 12)  # a random gain, in dB
            loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        log(f"epoch {epoch + 1}/{epochs}: loss {np.mean(losses[-len(loader):]):.4f} "
            f"({len(loader)} batches of {batch_size} x {length_s:g} s, {time.perf_counter() - t0:.1f} s)")
    return model, losses


@torch.no_grad()
def activations(model: OnsetNet, prepared: Path, split: str, kits: list[str], device: torch.device) -> dict:
    """Per file of the split and kits: onset probabilities (frames, classes), the frame times and
    the features. Each file is one window as long as the longest file (the network is fully
    convolutional), so no onset falls on a window edge."""
    probe = drums.open(prepared, mode="sequences", length_s=4.0)  # every file ends within its last window
    longest_s = (probe.starts(range(len(probe))).max() + probe.n_samples) / probe.sample_rate_hz
    ds = drums.open(prepared, mode="sequences", length_s=float(np.ceil(longest_s)), features=SPEC)
    ds = ds.filter(split=split, kits=kits)
    model.eval()
    out = {}
    for i in range(len(ds)):
        b = ds[i]  # one file, zeros after its end
        prob = torch.sigmoid(model(torch.from_numpy(b["features"][None]).to(device)))[0].cpu().numpy()
        # A label on frame t means an onset in [t, t + 1) hops: its centre is the best time estimate.
        times = (np.arange(len(prob)) + 0.5) * ds.hop_samples / ds.sample_rate_hz
        out[b["pair_id"]] = {"prob": prob, "times": times, "features": b["features"], "kit": b["kit"]}
    return out


def pick_peaks(prob: np.ndarray, threshold: float, min_gap: int = 2) -> np.ndarray:
    """Frames where `prob` is at least `threshold` and the largest within +-min_gap frames (the
    first of a plateau)."""
    padded = np.pad(prob, min_gap, constant_values=-1.0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * min_gap + 1)
    left = np.lib.stride_tricks.sliding_window_view(padded[:-1], min_gap)[:len(prob)]
    return np.flatnonzero((prob >= threshold) & (prob == windows.max(axis=1)) & (left.max(axis=1) < prob))


def references(prepared: Path, class_names: list[str]) -> dict:
    """Reference onset times (s) per file and class, from the prepared labels."""
    labels = drums.open(prepared).labels.select(["pair_id", "onset_s", "classes"]).to_pydict()
    out: dict = {}
    for pid, t, classes in zip(labels["pair_id"], labels["onset_s"], labels["classes"]):
        per = out.setdefault(pid, {c: [] for c in class_names})
        for c, hit in zip(class_names, classes):
            if hit:
                per[c].append(t)
    return out


def score(acts: dict, refs: dict, class_names: list[str], thresholds: dict, only: list[str] | None = None) -> dict:
    """mir_eval.onset.f_measure per class (those in `only`, default all) and over them (onsets of
    every file and class laid end to end, one file's length + 1 s apart, so that the counts add
    up over files)."""
    span = max(a["times"][-1] for a in acts.values()) + 1.0
    table = {}
    pooled_ref, pooled_est = [], []
    for c in only or class_names:
        k = class_names.index(c)  # the activation column of class c
        ref, est = [], []
        for n, (pid, a) in enumerate(sorted(acts.items())):
            ref.append(np.asarray(refs.get(pid, {}).get(c, []), float) + span * n)
            est.append(a["times"][pick_peaks(a["prob"][:, k], thresholds[c])] + span * n)
        ref, est = np.sort(np.concatenate(ref)), np.sort(np.concatenate(est))
        table[c] = _f(ref, est)
        pooled_ref.append(ref + span * len(acts) * k)
        pooled_est.append(est + span * len(acts) * k)
    table["overall"] = _f(np.concatenate(pooled_ref), np.concatenate(pooled_est))
    return table


def _f(ref: np.ndarray, est: np.ndarray) -> dict:
    if len(ref) == 0 or len(est) == 0:  # mir_eval warns and gives 0 there; say it without the warning
        return {"f": 0.0, "precision": 0.0, "recall": 0.0, "n_ref": len(ref), "n_est": len(est)}
    f, p, r = mir_eval.onset.f_measure(ref, est, window=WINDOW_S / 1000)
    return {"f": f, "precision": p, "recall": r, "n_ref": len(ref), "n_est": len(est)}


def choose_thresholds(acts: dict, refs: dict, class_names: list[str]) -> dict:
    """Per class, the threshold with the best F-measure on the validation files."""
    grid = np.round(np.arange(0.1, 0.95, 0.05), 2)
    best = {}
    for c in class_names:
        scores = [score(acts, refs, class_names, {c: t}, only=[c])[c]["f"] for t in grid]
        best[c] = float(grid[int(np.argmax(scores))])
    return best


def print_table(title: str, table: dict, thresholds: dict) -> None:
    print(f"\n{title}\n| class | F | precision | recall | reference onsets | detected | threshold |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for c, r in table.items():
        t = f"{thresholds[c]:.2f}" if c in thresholds else ""
        print(f"| {c} | {r['f']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['n_ref']} | {r['n_est']} | {t} |")


def figure(acts: dict, refs: dict, class_names: list[str], thresholds: dict, path: Path, excerpt_s: float = 4.0):
    """A spectrogram excerpt of one held-out file with activations, picked peaks and references."""
    import matplotlib  # noqa: PLC0415 - only the figure needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    pid = sorted(acts)[0]
    a = acts[pid]
    frame_s = a["times"][1] - a["times"][0]
    first = refs[pid][class_names[0]][0] if refs[pid][class_names[0]] else 0.0
    lo = int(max(first - 0.5, 0) / frame_s)
    hi = min(lo + int(excerpt_s / frame_s), len(a["times"]))
    t = a["times"][lo:hi]
    shown = [c for c in PLOT_CLASSES if c in class_names]
    fig, axes = plt.subplots(1 + len(shown), 1, figsize=(11, 2.2 + 1.6 * len(shown)), sharex=True,
                             gridspec_kw={"height_ratios": [2.2] + [1] * len(shown)})
    axes[0].imshow(a["features"][lo:hi].T, origin="lower", aspect="auto", cmap="magma",
                   extent=(t[0] - frame_s / 2, t[-1] + frame_s / 2, 0, a["features"].shape[1]))
    axes[0].set_ylabel("mel band")
    axes[0].set_title(f"{pid} ({a['kit']}, not heard in training)\nlog-mel; below: activations, picked "
                      f"peaks (dots), thresholds (dotted), reference onsets (dashed)", fontsize=10)
    colours = {"bass_drum": "tab:blue", "snare": "tab:orange", "hihat": "tab:green"}
    for ax, c in zip(axes[1:], shown):
        k = class_names.index(c)
        prob = a["prob"][lo:hi, k]
        ax.plot(t, prob, color=colours.get(c, "k"), lw=1.2)
        ax.axhline(thresholds[c], color="grey", lw=0.6, ls=":")
        peaks = pick_peaks(a["prob"][:, k], thresholds[c])
        peaks = peaks[(peaks >= lo) & (peaks < hi)]
        ax.plot(a["times"][peaks], a["prob"][peaks, k], "o", color=colours.get(c, "k"), ms=4)
        for r in refs[pid][c]:
            if t[0] <= r <= t[-1]:
                ax.axvline(r, color="k", lw=0.8, ls="--")
                axes[0].axvline(r, color=colours.get(c, "w"), lw=0.6, ls="--", alpha=0.8)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(c)
    axes[-1].set_xlabel("seconds into the file")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/train_onsets"), help="corpus, records, figure, results")
    ap.add_argument("--performances", type=int, default=24, help="sample corpus: distinct performances")
    ap.add_argument("--kits", type=int, default=4, help="sample corpus: kits each performance is rendered with")
    ap.add_argument("--min-duration", type=float, default=10.0)
    ap.add_argument("--max-duration", type=float, default=25.0)
    ap.add_argument("--held-out-kits", default="Room Kit,Jazz Kit",
                    help="kits left out of training and validation, scored apart (comma-separated)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--length", type=float, default=4.0, help="training window, seconds")
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    device = torch.device(a.device)
    t0 = time.perf_counter()
    prepared = make_data(a.out, a.performances, a.kits, a.seed, a.min_duration, a.max_duration)
    # Labels and audio must agree for a model to learn them: prepare measured each file's offset.
    align = json.loads((prepared / "report.json").read_text()).get("alignment", {})
    print(f"records: {prepared} ({time.perf_counter() - t0:.0f} s); audio vs MIDI onsets over "
          f"{align.get('files', 0)} files: median {align.get('median_ms', float('nan')):+.2f} ms, "
          f"largest {align.get('abs_max_ms', float('nan')):.2f} ms")
    records = drums.open(prepared)
    names = list(records.class_names)
    all_kits = sorted(set(records.labels.column("kit").to_pylist()))
    held_out = [k for k in a.held_out_kits.split(",") if k in all_kits]
    seen = [k for k in all_kits if k not in held_out]
    model, losses = train(prepared, held_out, epochs=a.epochs, batch_size=a.batch_size, workers=a.workers,
                          length_s=a.length, device=device, seed=a.seed)
    with atomic_path(a.out / "model.pt") as tmp:
        torch.save(model.state_dict(), tmp)
    refs = references(prepared, names)
    thresholds = choose_thresholds(activations(model, prepared, "validation", seen, device), refs, names)
    results = {"losses": losses, "thresholds": thresholds, "held_out_kits": held_out, "alignment": align}
    for title, kits in (("held_out", held_out), ("seen", seen)):
        if not kits:
            continue
        acts = activations(model, prepared, "test", kits, device)
        results[title] = score(acts, refs, names, thresholds)
        what = "kits not heard in training: " + ", ".join(kits) if title == "held_out" else "kits heard in training"
        print_table(f"Test split, {what} ({len(acts)} files; mir_eval.onset.f_measure, {WINDOW_S} ms)",
                    results[title], thresholds)
        if title == "held_out":
            results["figure"] = str(figure(acts, refs, names, thresholds, a.out / "onsets.png"))
    with atomic_path(a.out / "results.json") as tmp:
        Path(tmp).write_text(json.dumps({k: v for k, v in results.items() if k != "losses"}, indent=1))
    print(f"\nfigure: {results.get('figure')}; total {time.perf_counter() - t0:.0f} s on {device}")
    return results


if __name__ == "__main__":
    main()
