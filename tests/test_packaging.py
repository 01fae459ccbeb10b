"""A wheel built from the repo carries the Hydra tree, so ``pip install .`` (not editable) runs from
any directory: the wheel's file list here, a fresh venv running ``motionlab`` in the slow test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from helpers import REPO

SOURCES = ("pyproject.toml", "setup.py", "README.md", "motionlab", "conf")


def _env() -> dict[str, str]:
    """Without PYTHONPATH, so nothing of the checkout is importable: only what was installed."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MOTIONLAB_OUTPUT")}


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the sources (a build in place would leave build/ in the checkout), with
    a machine-specific conf/local/ that must stay out."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, src / name)
    (src / "conf" / "local").mkdir(exist_ok=True)
    (src / "conf" / "local" / "default.yaml").write_text("paths: {output_root: /my/disk}\n")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(src)], check=True, env=_env(), timeout=300)
    (wheel,) = (tmp_path / "dist").glob("motionlab-*.whl")
    return wheel


def test_the_wheel_holds_every_module_and_config(tmp_path):
    names = set(zipfile.ZipFile(build_wheel(tmp_path)).namelist())
    configs = {f"motionlab/conf/{p.relative_to(REPO / 'conf').as_posix()}" for p in (REPO / "conf").rglob("*.yaml")
               if "local" not in p.relative_to(REPO / "conf").parts}
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "motionlab").rglob("*.py")}
    assert "motionlab/conf/config.yaml" in configs
    assert configs <= names, sorted(configs - names)
    assert modules <= names, sorted(modules - names)
    assert not [n for n in names if n.startswith("motionlab/conf/local/")]


@pytest.mark.slow
def test_a_non_editable_install_runs_from_another_directory(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # pip of this env installs into the fresh one; --no-deps --no-index: nothing is downloaded;
    # --ignore-installed: never touch another environment's motionlab
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", "--ignore-installed", str(wheel)], check=True, env=_env(), timeout=300)
    # torch & co. come from this env's site-packages, added after the fresh one's (the .pth of this
    # env's editable motionlab is not processed: only the wheel's motionlab is importable)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import motionlab.config.preflight as p; print(p.CONF_DIR)"],
                           cwd=elsewhere, env=_env(), check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where) == Path(purelib) / "motionlab" / "conf"
    result = subprocess.run([str(venv / "bin" / "motionlab"), "debug=fast", "trainer.progress_bar=false"],
                            cwd=elsewhere, env=_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (metrics,) = (elsewhere / "outputs" / "runs").glob("unreg/synthetic_a_to_voc/seed0_*/metrics.json")
    assert '"report_metric": "classifier/test_acc"' in metrics.read_text()
