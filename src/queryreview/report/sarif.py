"""SARIF 2.1.0 report, in the subset GitHub code scanning accepts.

Every rule of the catalog goes into ``tool.driver.rules`` (so ``ruleIndex`` is stable
across runs); each finding becomes a result with a physical location, or a logical
one when its path names no file (``catalog:public.orders``). Recommendations (indexes to
create or drop, rewrites) go into ``runs[0].properties``, in the JSON report's shape.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from queryreview import __version__
from queryreview.model import Finding, Review

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/queryreview/"
STDIN_URI = "stdin.sql"
FINGERPRINT_KEY = "queryreview/v1"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}

# "catalog:public.orders", "plan:q1" — but not "C:\\x.sql" (a Windows drive) nor "file:" URIs.
_LOGICAL = re.compile(r"^(?P<kind>[a-z][a-z0-9_-]+):(?P<name>.+)$")


def render(review: Review) -> str:
    return json.dumps(document(review), indent=2, ensure_ascii=False) + "\n"


def document(review: Review) -> dict[str, Any]:
    """The SARIF log as a dict (see render)."""
    rules, index = _rules(review.findings)
    seen: dict[str, int] = {}
    places = {path: _place(path) for path in {finding.location.path for finding in review.findings}}
    results = [_result(finding, index[finding.code], places[finding.location.path], seen)
               for finding in review.findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "queryreview",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if review.recommendations or review.rejected:
        # Not results: GitHub code scanning rejects results without a file location, and a recommendation
        # is about the database, not a line. A property bag is kept and ignored by consumers that do not know it.
        run["properties"] = {
            "recommendations": [recommendation.to_dict() for recommendation in review.recommendations],
            "rejected": [recommendation.to_dict() for recommendation in review.rejected],
        }
    notes = [*(f"skipped {skipped}" for skipped in review.skipped_rules), *review.notes]
    if notes:
        run["invocations"] = [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [{"level": "note", "message": {"text": note}} for note in notes],
        }]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rules(findings: list[Finding]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Descriptors for every catalogued rule, plus any code only seen in findings."""
    from queryreview.rules.registry import all_rules

    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in all_rules():
        index[rule.code] = len(descriptors)
        descriptors.append(_descriptor(rule.code, rule.name, rule.family, rule.severity,
                                       rule.summary, rule.why, rule.fix))
    for finding in findings:
        if finding.code not in index:  # not catalogued: describe it from the finding
            index[finding.code] = len(descriptors)
            descriptors.append(_descriptor(finding.code, finding.rule, finding.family, finding.severity,
                                           finding.message, finding.message, finding.help))
    return descriptors, index


def _descriptor(code: str, name: str, family: str, severity: str, summary: str, why: str,
                fix: str) -> dict[str, Any]:
    return {
        "id": code,
        "name": name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": _one_paragraph(why)},
        "help": {
            "text": f"{_one_paragraph(fix)}\n\nWhy: {_one_paragraph(why)}",
            "markdown": f"**Fix.** {fix}\n\n**Why.** {why}",
        },
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"tags": [family]},
    }


def _one_paragraph(text: str) -> str:
    """YAML block text reflowed: line breaks inside a paragraph become spaces."""
    return "\n\n".join(" ".join(part.split()) for part in text.split("\n\n") if part.strip())


def _place(path: str) -> tuple[tuple[str, str] | None, str]:
    """(logical kind and name, or None; the URI or logical path) of a finding's path, once per path."""
    logical = logical_name(path)
    return logical, path if logical is not None else artifact_uri(path)


def _result(finding: Finding, rule_index: int, place: tuple[tuple[str, str] | None, str],
            seen: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.message}\nHelp: {finding.help}" if finding.help else finding.message},
        "locations": [_location(finding, place)],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(finding, place[1], seen)},
    }
    if finding.fix is not None:
        fix = {"description": finding.fix.description}
        if finding.fix.sql:
            fix["sql"] = finding.fix.sql
        result["properties"] = {"fix": fix}
    return result


def _location(finding: Finding, place: tuple[tuple[str, str] | None, str]) -> dict[str, Any]:
    loc = finding.location
    logical, uri = place
    if logical is not None:
        kind, name = logical
        return {"logicalLocations": [{"name": name, "fullyQualifiedName": loc.path, "kind": "resource"}],
                "message": {"text": f"{kind} object {name}"}}
    region: dict[str, int] = {"startLine": max(loc.line, 1), "startColumn": max(loc.column, 1)}
    if (loc.end_line, loc.end_column) > (loc.line, loc.column):  # an empty span gets no end
        region["endLine"] = loc.end_line
        region["endColumn"] = max(loc.end_column, 1)
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}


def logical_name(path: str) -> tuple[str, str] | None:
    """(kind, name) for a path that names no file, such as ``catalog:public.orders``."""
    match = _LOGICAL.match(path)
    if match is None or match.group("kind") == "file" or os.path.exists(path):
        return None
    return match.group("kind"), match.group("name")


def relative_path(path: str) -> str | None:
    """A file's path relative to the working directory, with forward slashes (absolute when it
    lies outside); None for stdin."""
    if path == "-":
        return None
    absolute = Path(os.path.abspath(path))
    cwd = Path.cwd()
    for base, target in ((cwd, absolute), (cwd.resolve(), absolute.resolve())):
        try:
            return target.relative_to(base).as_posix()
        except ValueError:
            continue
    return absolute.as_posix()


def artifact_uri(path: str) -> str:
    """The SARIF artifactLocation.uri of an input: relative, forward slashes, percent-encoded."""
    relative = relative_path(path)
    if relative is None:
        return STDIN_URI
    if relative.startswith("/"):  # outside the working directory: an absolute file URI
        return Path(relative).as_uri()
    return quote(relative, safe="/")


def _fingerprint(finding: Finding, where: str, seen: dict[str, int]) -> str:
    """Stable across runs and line moves: rule, file and the statement's text (whitespace-normalised).

    The n-th identical finding in one file gets ``:n`` appended, so repeats stay distinct.
    """
    anchor = finding.statement if finding.statement is not None else finding.message
    material = "\0".join((finding.code, where, " ".join(anchor.split())))
    digest = hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
    occurrence = seen.get(digest, 0) + 1
    seen[digest] = occurrence
    return f"{digest}:{occurrence}"
