"""PerformanceMonitor and --monitor: what it samples, report.json + PNG, both pipelines."""

import json
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from cadence.cli import main
from cadence.monitor import EARLY_INTERVAL_S, EARLY_S, MonitoredRun, PerformanceMonitor
from cadence.runtime import Progress, make_job
from cadence.sample import gait

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("gait") / "sample.parquet"
    gait.generate(path, subjects=2, strides_per_task=10, n_features=20, seed=5, row_group_rows=1500)
    return path


class FakeProcess:
    """The monitor's clock and CPU-time counter, moved by the test: exact figures, no timing."""

    def __init__(self) -> None:
        self.t_s, self.cpu_s = 1000.0, 5.0

    def clock(self) -> float:
        return self.t_s

    def cpu_seconds(self) -> float:
        return self.cpu_s

    def advance(self, dt_s: float, cpu_share: float) -> None:
        self.t_s += dt_s
        self.cpu_s += dt_s * cpu_share


def test_samples_cpu_rss_budget_and_stage_progress(tmp_path):
    fake = FakeProcess()
    mon = PerformanceMonitor(clock=fake.clock, cpu_seconds=fake.cpu_seconds)
    mon.start_monitoring(interval=0.25, background=False)  # a sample now, the rest below
    job = make_job(1, 0)  # made while the monitor runs: its budget is sampled
    job.reserve(7 * 2**20)
    block = np.ones(30 * 2**20 // 8)  # 30 MiB resident
    with Progress("stage-a", "row", False) as bar:
        for i in range(1, 6):
            fake.advance(0.25, 0.75 if i < 5 else 1.5)  # three quarters of a core, then two threads
            bar.update(100 * i, 10_000)
            mon.sample()
    job.release(7 * 2**20)
    fake.advance(0.5, 0.0)  # idle
    mon.record_processing_time(0.5, 10)
    mon.stop_monitoring()
    tl = mon.timeline()
    assert tl["samples"] == 7 and len(tl["t_s"]) == len(tl["cpu_percent"]) == len(tl["stage"]) == 7
    assert tl["t_s"] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.75]
    assert tl["cpu_percent"] == [0.0, 75.0, 75.0, 75.0, 75.0, 150.0, 0.0]
    assert tl["reserved_bytes"] == [0] + [7 * 2**20] * 5 + [0] and tl["peak_reserved_bytes"] == 7 * 2**20
    assert tl["peak_rss_bytes"] > block.nbytes
    assert tl["stage"] == [None] + ["stage-a"] * 6 and tl["stage_done"] == [None, 100, 200, 300, 400, 500, 500]
    assert tl["throughput_per_s"] == [0.0, 0.0, 400.0, 400.0, 400.0, 400.0, 0.0]  # rows per second
    stats = mon.get_current_stats()
    assert stats["avg_throughput"] == 20.0 and 0 < stats["memory_usage"] < 100
    assert mon.plot_performance(tmp_path / "m.png").read_bytes()[:8] == PNG


def test_monitored_run_keeps_the_report_and_writes_nothing_on_failure(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"files": 3}))
    with pytest.raises(RuntimeError):
        with MonitoredRun(report, interval=0.01):
            raise RuntimeError("boom")
    assert json.loads(report.read_text()) == {"files": 3} and not (tmp_path / "report.png").exists()
    with MonitoredRun(report, interval=0.01) as run:
        run.extra["cache"] = {"hits": 1}
        time.sleep(0.03)
    doc = json.loads(report.read_text())
    assert doc["files"] == 3 and doc["monitor"]["cache"] == {"hits": 1} and doc["monitor"]["samples"] >= 2
    assert (tmp_path / "report.png").read_bytes()[:8] == PNG
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_gait_commands_with_monitor_and_cache(sample, tmp_path):
    out = tmp_path / "f.parquet"
    cache = tmp_path / "cache"
    for _ in range(2):
        assert main(["gait", "features", str(sample), "-o", str(out), "-q", "--monitor", "--cache", str(cache)]) == 0
    doc = json.loads((tmp_path / "f.report.json").read_text())["monitor"]
    assert doc["cache"]["hits"] == 1 and doc["cache"]["misses"] == 0  # the second run: columns mapped
    assert "cycle features" in doc["stage"] and (tmp_path / "f.report.png").read_bytes()[:8] == PNG
    assert pq.read_table(out).num_rows > 0
    assert main(["gait", "report", str(sample), "-o", str(tmp_path / "rep"), "-q", "--monitor",
                 "--cache", str(cache)]) == 0
    doc = json.loads((tmp_path / "rep" / "report.json").read_text())["monitor"]
    assert doc["cache"]["hits"] == 1  # the columns the features runs stored
    assert "report" in doc["stage"] and "plot" in doc["stage_unit"] and (tmp_path / "rep" / "report.png").is_file()
    csv = tmp_path / "v.csv"
    # exit 1: the sample's injected invalid cycles fail LocoHub's rules
    assert main(["gait", "validate", str(sample), "-q", "--json", "--csv", str(csv), "--monitor"]) == 1
    assert "monitor" in json.loads((tmp_path / "v.report.json").read_text())


def test_cache_command(sample, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(["gait", "features", str(sample), "-o", str(tmp_path / "f.parquet"), "-q", "--cache", str(cache)]) == 0
    capsys.readouterr()
    assert main(["gait", "cache", "info", str(cache), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["entries"] == 1 and info["functions"]["cadence.gait.columns"]["bytes"] > 0
    assert main(["gait", "cache", "clear", str(cache)]) == 0
    assert "removed 1 entries" in capsys.readouterr().out
    assert main(["gait", "cache", "info", str(tmp_path)]) == 2


def test_drums_prepare_with_monitor(drum_corpus, tmp_path):
    out = tmp_path / "out"
    assert main(["drums", "prepare", str(drum_corpus), str(out), "--limit", "2", "-q", "--monitor"]) == 0
    doc = json.loads((out / "report.json").read_text())
    assert "monitor" in doc and doc["monitor"]["samples"] >= 2 and "prepare" in doc["monitor"]["stage"]
    assert doc["monitor"]["peak_reserved_bytes"] > 0 and (out / "report.png").read_bytes()[:8] == PNG


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_a_run_under_a_second_fills_every_panel():
    """Issue 22, point 16. Before: a 0.4 s run had two samples (start, end): no throughput, no
    progress, and the budget drawn at 0 although the engine reserved 7 MiB in between. The run is
    sampled as the thread samples it: every period(), which is 0.1 s in the first second."""
    fake = FakeProcess()
    mon = PerformanceMonitor(clock=fake.clock, cpu_seconds=fake.cpu_seconds)
    mon.start_monitoring(background=False)  # the default 0.5 s interval
    job = make_job(1, 0)
    with Progress("stage-a", "row", False) as bar:
        job.reserve(7 * 2**20)
        for i in range(1, 5):  # 0.4 s
            assert mon.period() == EARLY_INTERVAL_S
            fake.advance(mon.period(), 1.0)
            bar.update(100 * i, 400)
            mon.sample()
        job.release(7 * 2**20)
    mon.stop_monitoring()
    tl = mon.timeline()
    assert tl["samples"] == 6 and tl["t_s"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.4]
    fake.advance(EARLY_S - 0.4, 0.0)
    assert mon.period() == 0.5  # after the first second: the interval
    fig = mon.plot_performance()
    try:
        cpu, memory, throughput, progress = fig.axes
        peak = [line for label, line in _lines(memory).items() if label.startswith("budget peak")]
        assert len(peak) == 1 and list(peak[0].get_ydata()) == [7.0, 7.0]  # MiB, the engine's peak
        assert "7.0 MiB" in peak[0].get_label()
        assert any(max(line.get_ydata()) > 0 for line in throughput.get_lines())
        (done,) = progress.get_lines()
        assert len(done.get_xdata()) >= 3 and done.get_ydata()[0] == 0 and max(done.get_ydata()) > 50
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_the_budget_line_equals_the_summary(sample, tmp_path, capsys, monkeypatch):
    """The PNG's budget peak is the number the command's summary prints (before: a line at 0)."""
    figures, real = [], PerformanceMonitor.plot_performance

    def spy(self, save_path=None):
        figures.append(real(self, None))
        return real(self, save_path)

    monkeypatch.setattr(PerformanceMonitor, "plot_performance", spy)
    assert main(["gait", "features", str(sample), "-o", str(tmp_path / "f.parquet"), "--monitor"]) == 0
    said = float(capsys.readouterr().out.rsplit("peak engine memory ", 1)[1].split()[0])
    doc = json.loads((tmp_path / "f.report.json").read_text())["monitor"]
    _, memory, _, _ = figures[0].axes
    (peak,) = [line for label, line in _lines(memory).items() if label.startswith("budget peak")]
    assert peak.get_ydata()[0] == doc["peak_reserved_bytes"] / 2**20 > 0
    assert round(peak.get_ydata()[0]) == said
    import matplotlib.pyplot as plt

    plt.close(figures[0])
