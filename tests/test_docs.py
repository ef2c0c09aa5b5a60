"""The docs stay true: generated rule index, JSON Schema against real output, config examples."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from queryreview import docs
from queryreview.cli import FORMATS, check, main
from queryreview.config import _KNOWN_KEYS, load_config, rule_overrides
from queryreview.model import Finding, Fix, Location, Review
from queryreview.report import json_report
from queryreview.rules.registry import all_rules, select_rules

try:
    import jsonschema
except ImportError:  # a dev dependency: pip install -e '.[dev]'
    jsonschema = None
needs_jsonschema = pytest.mark.skipif(jsonschema is None, reason="jsonschema is not installed")

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMA = json.loads((DOCS / "findings.schema.json").read_text(encoding="utf-8"))


# --- docs/rules.md -----------------------------------------------------------------------


def test_rules_md_is_up_to_date() -> None:
    current = docs.rules_doc_path().read_text(encoding="utf-8") if docs.rules_doc_path().is_file() else ""
    assert current == docs.render_rules_doc(), (
        f"docs/rules.md is stale: regenerate it with `{docs.REFRESH_COMMAND}` "
        "(run from the repository root, e.g. `.venv/bin/python -m queryreview.docs --write`)")


def _github_slug(heading: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def test_rules_md_has_a_section_per_rule_and_working_anchors() -> None:
    text = docs.render_rules_doc()
    headings = {_github_slug(line[3:]) for line in text.splitlines() if line.startswith("## ")}
    for rule in all_rules():
        assert f"## {rule.code} {rule.name}" in text
        assert docs.anchor(rule.code, rule.name) in headings
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in headings, target
    assert f"queryreview has {len(all_rules())} rules." in text


def test_docs_module_prints_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs.main([]) == 0
    printed = capsys.readouterr().out
    assert printed == docs.render_rules_doc()
    target = tmp_path / "rules.md"
    assert docs.main(["--check", "--path", str(target)]) == 1
    assert docs.REFRESH_COMMAND in capsys.readouterr().err
    assert docs.main(["--write", "--path", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == printed
    assert docs.main(["--check", "--path", str(target)]) == 0


# --- JSON output and its schema -------------------------------------------------------------


def _strict(schema: dict) -> dict:
    """The schema with additionalProperties: false wherever properties are listed, to catch
    a field that the output has but the schema (and so docs/json-schema.md) does not."""
    strict = copy.deepcopy(schema)

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("type") == "object":
                node.setdefault("additionalProperties", False)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(strict)
    return strict


def _validate(document: dict) -> None:
    jsonschema.Draft202012Validator(_strict(SCHEMA)).validate(document)


@needs_jsonschema
def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["version"]["const"] == json_report.SCHEMA_VERSION


@needs_jsonschema
def test_real_output_matches_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.sql").write_text(
        "-- queryreview: ignore[nosuch-rule]\nSELECT * FROM t;\nSELECT FROM WHERE (;\n", encoding="utf-8")
    (tmp_path / "bad.sql").write_bytes(b"SELECT '\xe9t\xe9';\n")
    result = CliRunner().invoke(main, ["check", ".", "--format", "json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    _validate(document)
    codes = {finding["code"] for finding in document["findings"]}
    assert {"QR101", "QR901", "QR902", "QR903"} <= codes


@needs_jsonschema
def test_output_with_a_fix_and_skipped_rules_matches_the_schema() -> None:
    finding = Finding("QR112", "union-without-all", "info", "query", "UNION removes duplicates", "Use UNION ALL",
                      Location("a.sql", 1, 1, 2, 6), "SELECT 1 UNION SELECT 2", Fix("Use UNION ALL", "SELECT 1"))
    no_sql = Finding("QR201", "some-rule", "error", "schema", "m", "h", Location("catalog:public.t", 1, 1, 1, 1),
                     None, Fix("Add an index"))
    review = Review(findings=[finding, no_sql], files=1, statements=1, parsed=1,
                    skipped_rules=["QR201 some-rule: needs a database catalog"], notes=["note"])
    _validate(json.loads(json_report.render(review)))


def _json_example() -> dict:
    text = (DOCS / "json-schema.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


@needs_jsonschema
def test_documented_example_matches_the_schema() -> None:
    example = _json_example()
    _validate(example)
    assert {f["code"] for f in example["findings"]} == {"QR101", "QR112"}


def test_every_field_is_documented() -> None:
    text = (DOCS / "json-schema.md").read_text(encoding="utf-8")

    def fields(node: dict) -> set[str]:
        found = set(node.get("properties", {}))
        for key, value in node.get("properties", {}).items():
            if key != "by_severity":  # its three counts are documented in its own row
                found |= fields(value)
        for value in node.get("$defs", {}).values():
            found |= fields(value)
        for option in node.get("oneOf", []):
            found |= fields(option)
        return found

    for name in fields(SCHEMA):
        assert f"| `{name}` |" in text, f"field {name} is not in the tables of docs/json-schema.md"


# --- configuration.md ----------------------------------------------------------------------


def _toml_examples() -> list[str]:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    return re.findall(r"```toml\n(.*?)```", text, re.S)


def test_every_config_key_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for key in _KNOWN_KEYS - {"rules"}:
        assert f"| `{key}` |" in text, key
    assert "| `rules.<rule>.severity` |" in text and "| `rules.<rule>.<setting>` |" in text


def test_every_check_option_is_documented() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in DOCS.glob("*.md"))
    for param in check.params:
        for option in getattr(param, "opts", []):
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in text, f"{option} is not documented in docs/"
    for fmt in FORMATS:
        assert f"## {fmt}" in (DOCS / "output-formats.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("index", range(4))
def test_configuration_examples_load(tmp_path: Path, index: int) -> None:
    examples = _toml_examples()
    assert len(examples) == 4
    example = examples[index]
    data = tomllib.loads(example)
    name = "pyproject.toml" if "tool" in data else ".queryreview.toml"
    path = tmp_path / name
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    rules = select_rules(config.select, config.ignore)
    rule_overrides(config, list(all_rules()))  # settings and severities are valid
    assert rules


def test_links_between_docs_resolve() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (DOCS / target).exists(), f"{page.name} links to missing {target}"


# --- examples of output in the docs are real output ------------------------------------------

EXAMPLE_ARGS = ["check", "queries/", "--select", "select-star,union-without-all"]


def _example_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> str:
    text = (DOCS / "output-formats.md").read_text(encoding="utf-8")
    sql = re.findall(r"```sql\n(.*?)```", text, re.S)[0]
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "orders.sql").write_text(sql, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env={"COLUMNS": None}).invoke(main, [*EXAMPLE_ARGS, "--format", fmt])
    assert result.exit_code == 1, result.output
    return result.stdout


STALE_EXAMPLE = ("the example output in docs/{page} no longer matches what queryreview prints: "
                 "paste the new output (`queryreview " + " ".join(EXAMPLE_ARGS) + " --format {fmt}` on the "
                 "example file) into the doc")


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_output_formats_examples_are_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    printed = _example_run(tmp_path, monkeypatch, fmt)
    blocks = re.findall(r"```text\n(.*?)```", (DOCS / "output-formats.md").read_text(encoding="utf-8"), re.S)
    assert printed.strip() in [block.strip() for block in blocks], \
        STALE_EXAMPLE.format(page="output-formats.md", fmt=fmt)


def test_json_example_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    printed = json.loads(_example_run(tmp_path, monkeypatch, "json"))
    example = _json_example()
    printed["tool"]["version"] = example["tool"]["version"]  # the docs need not change with each release
    assert printed == example, STALE_EXAMPLE.format(page="json-schema.md", fmt="json")
