"""Ray nodes get cadence from the wheel (issue 18, docs/scale-out.md "Getting cadence onto the
nodes"): a driver whose environment has Ray and cadence's dependencies but not cadence starts a
local cluster with `runtime_env={"pip": [wheel]}`; its tasks import cadence from the environment
Ray built from that wheel and prepare a corpus with it."""

from __future__ import annotations

import json
import subprocess

from test_wheel import ROOT, check, make_venv, pip_install, wheel_for

DRIVER = """
import json, logging, sys
import ray

wheel, root, out = sys.argv[1:4]
ray.init(address="local", logging_level=logging.ERROR, log_to_driver=False,
         runtime_env={"pip": {"packages": [wheel], "pip_check": False}})

@ray.remote
def prepare(root, out):
    import cadence
    from cadence import drums
    drums.prepare(root, out, jobs=1, show_progress=False)
    return {"cadence_file": cadence.__file__, "native_libs": cadence.build_info()["native_libs"],
            "records": len(drums.open(out))}

print(json.dumps(ray.get(prepare.remote(root, out))))
ray.shutdown()
"""


def test_workers_import_cadence_from_the_wheel(tmp_path):
    wheel = wheel_for("3.11")
    env = make_venv(tmp_path / "venv", "3.11")
    # cadence's dependencies and Ray, then cadence itself removed: only the runtime_env brings it.
    pip_install(env, str(wheel), "virtualenv", *ray_requirement(), cwd=tmp_path)
    check(subprocess.run(["python", "-m", "pip", "uninstall", "-y", "-q", "cadence"], env=env,
                         capture_output=True, text=True), "uninstall")
    gone = subprocess.run(["python", "-c", "import cadence"], env=env, capture_output=True, text=True)
    assert gone.returncode != 0

    dev = {"PATH": f"{ROOT / '.venv/bin'}:/usr/bin:/bin"}
    check(subprocess.run(["cadence", "sample", "drums", "drums", "--force", "-q"], cwd=tmp_path, env=dev,
                         capture_output=True, text=True), "sample")
    (tmp_path / "driver.py").write_text(DRIVER)
    done = check(subprocess.run(["python", "driver.py", str(wheel), str(tmp_path / "drums"),
                                 str(tmp_path / "out")], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=900), "driver")
    result = json.loads(done.strip().splitlines()[-1])
    assert "runtime_resources" in result["cadence_file"], result  # Ray's environment, not a venv of ours
    assert result["native_libs"] == "vendored"
    assert result["records"] > 0


def ray_requirement() -> list[str]:
    """The `ray` extra as pyproject.toml pins it, so the test uses what the dev venv has."""
    import tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["ray"]
