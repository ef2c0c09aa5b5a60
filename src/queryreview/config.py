"""Configuration: ``.queryreview.toml`` or ``[tool.queryreview]`` in ``pyproject.toml``.

Found by walking up from the current directory; the nearest file wins and CLI flags
override it. See docs/configuration.md for every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from queryreview.errors import InputError
from queryreview.model import SEVERITIES

FAIL_ON = (*SEVERITIES, "never")
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
_KNOWN_KEYS = {"select", "ignore", "fail_on", "exclude", "rules", "max_file_bytes"}


@dataclass
class Config:
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    fail_on: str = "warning"
    exclude: list[str] = field(default_factory=list)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-rule settings, by name or code
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    path: Path | None = None
    base: Path = field(default_factory=Path.cwd)  # exclude globs are relative to this


def find_config_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest ``.queryreview.toml``, or ``pyproject.toml`` holding ``[tool.queryreview]``."""
    for directory in (start, *start.parents):
        dedicated = directory / ".queryreview.toml"
        if dedicated.is_file():
            return dedicated, _read_toml(dedicated)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            section = _read_toml(pyproject).get("tool", {}).get("queryreview")
            if section is not None:
                return pyproject, section
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"cannot read configuration {path}: {error}") from error


def load_config(explicit: Path | str | None = None, start: Path | None = None) -> Config:
    """Read the configuration file (explicit, else found by walking up), validated."""
    if explicit is not None:
        explicit = Path(explicit)
        if not explicit.is_file():
            raise InputError(f"configuration file {explicit} not found")
        data = _read_toml(explicit)
        if explicit.name == "pyproject.toml":
            data = data.get("tool", {}).get("queryreview", {})
        found: tuple[Path, dict[str, Any]] | None = (explicit, data)
    else:
        found = find_config_file((start or Path.cwd()).resolve())
    if found is None:
        return Config()
    path, data = found
    return _config_from(data, path)


def _config_from(data: dict[str, Any], path: Path) -> Config:
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise InputError(f"{path}: unknown configuration key(s) {', '.join(sorted(unknown))}",
                         hint="see docs/configuration.md")
    config = Config(path=path, base=path.parent)
    if "select" in data:
        config.select = _string_list(data["select"], "select", path)
    config.ignore = _string_list(data.get("ignore", []), "ignore", path)
    config.exclude = _string_list(data.get("exclude", []), "exclude", path)
    config.fail_on = check_fail_on(str(data.get("fail_on", config.fail_on)), path)
    max_bytes = data.get("max_file_bytes", config.max_file_bytes)
    if not isinstance(max_bytes, int) or max_bytes <= 0:
        raise InputError(f"{path}: max_file_bytes must be a positive integer")
    config.max_file_bytes = max_bytes
    rules = data.get("rules", {})
    if not isinstance(rules, dict) or not all(isinstance(v, dict) for v in rules.values()):
        raise InputError(f"{path}: [rules] must hold one table per rule, e.g. [tool.queryreview.rules.large-in-list]")
    config.rules = rules
    return config


def check_fail_on(value: str, where: Any = "--fail-on") -> str:
    if value not in FAIL_ON:
        raise InputError(f"{where}: fail_on must be one of {', '.join(FAIL_ON)}, not {value!r}")
    return value


def _string_list(value: Any, key: str, path: Path) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{path}: {key} must be a list of strings")
    return list(value)


def rule_overrides(config: Config, rules: list) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Per-rule settings and severities keyed by rule name, validated against each rule's settings."""
    settings: dict[str, dict[str, Any]] = {}
    severities: dict[str, str] = {}
    by_token = {rule.name: rule for rule in rules} | {rule.code: rule for rule in rules}
    for token, values in config.rules.items():
        rule = by_token.get(token) or by_token.get(token.upper())
        if rule is None:
            from queryreview.rules.registry import find_rule

            find_rule(token)  # raises for a rule that does not exist
            continue  # a known rule that is not selected
        values = dict(values)
        severity = values.pop("severity", None)
        if severity is not None:
            if severity not in SEVERITIES:
                raise InputError(f"{config.path}: rules.{token}.severity must be one of {', '.join(SEVERITIES)}")
            severities[rule.name] = severity
        unknown = set(values) - set(rule.settings)
        if unknown:
            known = ", ".join(sorted(rule.settings)) or "none"
            raise InputError(f"{config.path}: rule {rule.name} has no setting(s) {', '.join(sorted(unknown))} (known: {known})")
        for key, value in values.items():
            default = rule.settings[key].get("default")
            if default is not None and type(value) is not type(default) and not (
                isinstance(default, float) and isinstance(value, int)
            ):
                raise InputError(f"{config.path}: rules.{rule.name}.{key} must be {type(default).__name__}")
        settings[rule.name] = values
    return settings, severities
