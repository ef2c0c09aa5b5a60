"""Snapshot files: a database's catalog and workload, collected once, reviewed offline.

    write_snapshot(snapshot, "prod.json.gz")      # gzip because the name ends in .gz
    snapshot = read_snapshot("prod.json.gz")      # gzip or not, told by the magic bytes
    snapshot.catalog, snapshot.workload, snapshot.warnings

The format is documented in docs/snapshot-format.md. FORMAT_VERSION changes only when an
existing field changes meaning or goes away; new optional fields keep the version (readers
ignore fields they do not know, and missing ones take their defaults). Files from an older
format are upgraded on read (_UPGRADES); a newer one is refused with a clear message.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from queryreview import __version__
from queryreview.catalog import Catalog, WorkloadStats, plain
from queryreview.errors import InputError

FORMAT = "queryreview-snapshot"
FORMAT_VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"
# format_version N -> function turning an N document into an N+1 one. Empty while only 1 exists.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


@dataclass(frozen=True)
class Notice:
    """A warning about what was collected (hidden statements, evictions…), with the fix as hint."""

    code: str
    message: str
    hint: str | None = None

    def text(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


@dataclass
class Source:
    """Where a snapshot came from. ``target`` is user@host:port/dbname, never a password."""

    target: str = ""
    server_version: str = ""
    server_version_num: int = 0
    database: str = ""
    user: str = ""


@dataclass(frozen=True)
class ExplainResult:
    """One statement's EXPLAIN (FORMAT JSON), or why there is none (sources/postgres/explain.py makes them).

    ``method``: plain | generic_plan | prepared_generic | sampled_values | analyze (None when
    refused before any attempt). ``note`` says what was substituted or repaired to get the plan.
    """

    plan_json: Any = None  # the decoded EXPLAIN output: [{"Plan": {...}, "Settings": {...}, ...}]
    method: str | None = None
    error: str | None = None
    parameter_types: tuple[str, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "plan": self.plan_json, "error": self.error,
                "parameter_types": list(self.parameter_types), "note": self.note}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExplainResult:
        return cls(plan_json=data.get("plan"), method=data.get("method"), error=data.get("error"),
                   parameter_types=tuple(str(name) for name in data.get("parameter_types") or ()),
                   note=data.get("note"))


@dataclass
class Snapshot:
    catalog: Catalog
    workload: WorkloadStats | None = None  # None: collected without pg_stat_statements (catalog only)
    warnings: list[Notice] = field(default_factory=list)
    source: Source = field(default_factory=Source)
    collected_at: str = ""  # ISO 8601, UTC
    tool_version: str = __version__
    redacted: bool = False
    format_version: int = FORMAT_VERSION
    plans: dict[int, ExplainResult] | None = None  # collect --explain: queryid -> plan; None: not explained

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "collected_at": self.collected_at,
            "tool_version": self.tool_version,
            "source": plain(self.source),
            "redacted": self.redacted,
            "catalog": self.catalog.to_dict(),
            "workload": self.workload.to_dict() if self.workload is not None else None,
            "warnings": [plain(notice) for notice in self.warnings],
        } | ({} if self.plans is None else {
            "plans": {str(queryid): result.to_dict() for queryid, result in self.plans.items()}})

    @classmethod
    def from_dict(cls, data: Any, origin: str = "snapshot") -> Snapshot:
        """Validate and build; every problem is one InputError naming ``origin``."""
        data = _checked_header(data, origin)
        try:
            source = data.get("source") or {}
            workload = data.get("workload")
            return cls(
                catalog=Catalog.from_dict(_mapping(data.get("catalog") or {}, "catalog")),
                workload=WorkloadStats.from_dict(_mapping(workload, "workload")) if workload is not None else None,
                warnings=[Notice(**_known(Notice, _mapping(item, "warning"))) for item in data.get("warnings") or ()],
                source=Source(**_known(Source, _mapping(source, "source"))),
                collected_at=str(data.get("collected_at") or ""),
                tool_version=str(data.get("tool_version") or ""),
                redacted=bool(data.get("redacted", False)),
                format_version=data["format_version"],
                plans=_plans(data.get("plans")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InputError(f"{origin} is not a valid queryreview snapshot: {_describe(error)}",
                             hint="collect it again with: queryreview collect DSN -o FILE") from None

    def notes(self) -> list[str]:
        """The warnings as one line each, for a report's notes."""
        return [notice.text() for notice in self.warnings]


def _plans(data: Any) -> dict[int, ExplainResult] | None:
    if data is None:
        return None
    return {int(queryid): ExplainResult.from_dict(_mapping(item, "plan"))
            for queryid, item in _mapping(data, "plans").items()}


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def dumps(snapshot: Snapshot, *, indent: int | None = None) -> bytes:
    """UTF-8 JSON of the snapshot."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(snapshot.to_dict(), ensure_ascii=False, indent=indent, separators=separators).encode("utf-8")


def loads(payload: bytes, origin: str = "snapshot") -> Snapshot:
    """A snapshot from file bytes (gzip or plain JSON)."""
    if payload[:2] == _GZIP_MAGIC:
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError, zlib.error) as error:
            raise InputError(f"{origin} is not a readable gzip file (truncated or corrupt: {error})",
                             hint="copy the snapshot again, or collect a new one") from None
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{origin} is not a queryreview snapshot (neither gzip nor UTF-8 JSON)") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{origin} is not a queryreview snapshot (invalid JSON at line {error.lineno}, "
                         f"column {error.colno}: {error.msg})", hint="is the file complete?") from None
    return Snapshot.from_dict(data, origin)


def write_snapshot(snapshot: Snapshot, destination: str | Path | None) -> int:
    """Write to a file (gzip when it ends in .gz; replaced atomically) or to stdout (``None``/``-``); returns bytes written."""
    if destination is None or str(destination) == "-":
        payload = dumps(snapshot, indent=1) + b"\n"
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
        return len(payload)
    path = Path(destination)
    if path.name.endswith(".gz"):
        payload = gzip.compress(dumps(snapshot), compresslevel=6, mtime=0)
    else:
        payload = dumps(snapshot, indent=1) + b"\n"
    _atomic_write(path, payload)
    return len(payload)


def read_snapshot(source: str | Path) -> Snapshot:
    """Read a snapshot file (``-`` for stdin); InputError for anything that is not a usable snapshot."""
    origin = str(source)
    try:
        payload = sys.stdin.buffer.read() if origin == "-" else Path(source).read_bytes()
    except OSError as error:
        raise InputError(f"cannot read snapshot {origin}: {error.strerror or error}") from None
    return loads(payload, origin)


def _atomic_write(path: Path, payload: bytes) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(payload)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None


def _checked_header(data: Any, origin: str) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'{origin} is not a queryreview snapshot (no "format": "{FORMAT}")',
                         hint="make one with: queryreview collect DSN -o FILE")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{origin} has an invalid snapshot format_version: {version!r}")
    if version > FORMAT_VERSION:
        raise InputError(f"{origin}: snapshot format {version} is newer than this queryreview supports "
                         f"({FORMAT_VERSION}): upgrade queryreview")
    while version < FORMAT_VERSION:
        data = _UPGRADES[version](data)
        version += 1
        data["format_version"] = version
    return data


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be an object, not {type(value).__name__}")
    return value


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {item.name for item in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error}"
    return str(error) or type(error).__name__
