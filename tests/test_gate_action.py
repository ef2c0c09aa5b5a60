"""The GitHub Action and the pre-commit hook stay in step with the CLI they call."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from queryreview.cli import main
from queryreview.cli_gate import gate

ROOT = Path(__file__).resolve().parent.parent


def _options(command) -> set[str]:
    return {name for param in command.params for name in getattr(param, "opts", ()) if name.startswith("--")}


def test_action_is_composite_and_passes_inputs_through_the_environment() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    run_step = next(step for step in steps if step.get("id") == "gate")
    script = run_step["run"]
    # no ${{ }} inside the script: inputs arrive as environment variables (no script injection)
    assert "${{" not in script
    for name in action["inputs"]:
        assert f"inputs.{name}" in yaml.safe_dump(steps), f"input {name} is not used"
    assert '--markdown-summary "$GITHUB_STEP_SUMMARY"' in script and "--format github" in script
    assert 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in script
    # every option the script passes exists on `queryreview gate`
    used = set(re.findall(r"(--[a-z][a-z-]+)", script))
    assert used <= _options(gate), used - _options(gate)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_action_script_builds_the_expected_command(tmp_path: Path) -> None:
    """Run the step's script with a stub `queryreview` that prints its arguments."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    script = next(step for step in action["runs"]["steps"] if step.get("id") == "gate")["run"]
    stub = tmp_path / "bin" / "queryreview"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done\nexit 1\n')
    stub.chmod(0o755)
    env = {"PATH": f"{stub.parent}:/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "GITHUB_OUTPUT": str(tmp_path / "output"), "QR_MIGRATIONS": "db/migrations", "QR_DSN": "",
           "QR_QUERIES": "app/queries\nlib/sql", "QR_STATS": "prod snap.json.gz", "QR_BASELINE": "b.json",
           "QR_MIN_ROWS": "5000", "QR_ARGS": "--top 50"}
    done = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 1  # the gate's exit code is the step's
    assert done.stdout.split("\n")[:-1] == [
        "[gate]", "[--format]", "[github]", "[--markdown-summary]", f"[{tmp_path / 'summary.md'}]", "[--baseline]",
        "[b.json]", "[--migrations]", "[db/migrations]", "[--queries]", "[app/queries]", "[--queries]", "[lib/sql]",
        "[--stats]", "[prod snap.json.gz]", "[--min-rows]", "[5000]", "[--top]", "[50]"]
    assert (tmp_path / "output").read_text() == "exit-code=1\n"


def test_pre_commit_hook_runs_queryreview_check(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(hook for hook in hooks if hook["id"] == "queryreview-check")
    assert hook["entry"] == "queryreview check" and hook["language"] == "python"
    assert re.search(hook["files"], "db/migrations/001_init.sql") and not re.search(hook["files"], "app.py")
    # what pre-commit runs: the entry plus the staged file names
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT * FROM orders;\n")
    result = CliRunner().invoke(main, [*hook["entry"].split()[1:], str(bad)])
    assert result.exit_code == 1 and "select-star" in result.output


def test_gate_docs_show_the_options_that_exist() -> None:
    text = (ROOT / "docs" / "gate.md").read_text()
    documented = set(re.findall(r"`(--[a-z][a-z-]+)", text))
    assert documented - {"--catalog-only", "--redact"} <= _options(gate)
    assert {"--migrations", "--dsn", "--queries", "--stats", "--baseline", "--update-baseline",
            "--min-rows"} <= documented
