"""Packaging proof: the wheel built from this checkout installs into a clean venv and works there.

Slow (~40 s: the build backend and the dependencies come from the package index) but run by
default: a wheel that lacks the rule catalog, or an entry point that does not start, breaks
every user while every other test passes against the source tree.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import queryreview

REPO = Path(__file__).resolve().parent.parent
NETWORK_TROUBLE = ("NewConnectionError", "Temporary failure in name resolution", "No matching distribution",
                   "Could not find a version", "ConnectTimeout", "ReadTimeout")


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _needs_network(completed: subprocess.CompletedProcess[str], what: str) -> None:
    if completed.returncode != 0:
        if any(marker in completed.stderr for marker in NETWORK_TROUBLE):
            pytest.skip(f"{what} needs the package index, which is not reachable: {completed.stderr[-300:]}")
        raise AssertionError(f"{what} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    try:
        import build  # noqa: F401

        command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)]
    except ImportError:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(REPO)]
    _needs_network(_run(command, cwd=out), "building the wheel")
    (built,) = out.glob("queryreview-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv (no system site-packages) with the wheel and its dependencies installed."""
    root = tmp_path_factory.mktemp("venv")
    # --without-pip and the running pip with --python: saves ~25 s of ensurepip per run
    created = _run([sys.executable, "-m", "venv", "--without-pip", str(root)], cwd=root)
    assert created.returncode == 0, created.stderr
    python = root / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)],
                     cwd=root, timeout=600)
    _needs_network(installed, "installing the wheel's dependencies")
    return root


@pytest.mark.slow
def test_wheel_contains_the_rule_catalog_and_the_entry_point(wheel: Path) -> None:
    assert wheel.name == f"queryreview-{queryreview.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "queryreview/_rules/QR101-select-star.yaml" in names
    yaml_in_repo = {p.name for p in (REPO / "rules").glob("QR*.yaml")}
    assert {Path(n).name for n in names if n.startswith("queryreview/_rules/")} >= yaml_in_repo
    assert {"queryreview/cli.py", "queryreview/rules/select_star.py", "queryreview/__main__.py"} <= names
    assert "queryreview = queryreview.cli:main" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "bench/", ".venv/"))]


@pytest.mark.slow
def test_installed_cli_documents_a_rule(venv: Path, tmp_path: Path) -> None:
    where = _run([str(venv / "bin" / "python"), "-c", "import queryreview; print(queryreview.__file__)"], cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv), "imported from outside the fresh venv"
    result = _run([str(venv / "bin" / "queryreview"), "rules", "select-star"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("QR101 select-star")
    assert "SELECT *" in result.stdout
    version = _run([str(venv / "bin" / "queryreview"), "--version"], cwd=tmp_path)
    assert version.stdout.strip() == f"queryreview, version {queryreview.__version__}"


@pytest.mark.slow
def test_installed_cli_checks_a_file(venv: Path, tmp_path: Path) -> None:
    (tmp_path / "q.sql").write_text("SELECT id FROM users WHERE id = $1;\nSELECT * FROM orders WHERE id = $1;\n",
                                    encoding="utf-8")
    result = _run([str(venv / "bin" / "queryreview"), "check", "q.sql", "--select", "select-star"], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "q.sql:2:8: QR101 select-star" in result.stdout
    assert "Traceback" not in result.stderr
    every_rule = _run([str(venv / "bin" / "queryreview"), "check", "q.sql", "--format", "json"], cwd=tmp_path)
    assert every_rule.returncode == 1, every_rule.stderr
    assert '"code": "QR101"' in every_rule.stdout
