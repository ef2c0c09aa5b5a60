"""Read SQL inputs: files, directories (recursively, ``*.sql``) and ``-`` for stdin."""

from __future__ import annotations

import codecs
import fnmatch
import os
import sys
from pathlib import Path
from typing import BinaryIO, Iterator

from queryreview.errors import InputError
from queryreview.model import SourceText

SQL_SUFFIXES = (".sql", ".psql", ".pgsql")


def discover(paths: list[str], exclude: list[str], base: Path) -> list[str]:
    """Expand directories into their SQL files, sorted, without excluded paths; ``-`` is kept."""
    found: list[str] = []
    for given in paths:
        if given == "-":
            found.append(given)
            continue
        path = Path(given)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _excluded(Path(root, d), exclude, base))
                for name in sorted(files):
                    candidate = Path(root, name)
                    if name.endswith(SQL_SUFFIXES) and not _excluded(candidate, exclude, base):
                        found.append(str(candidate))
        elif path.exists():
            if not _excluded(path, exclude, base):
                found.append(given)  # an explicitly named file is read whatever its suffix
        else:
            raise InputError(f"{given}: no such file or directory")
    return found


def _excluded(path: Path, patterns: list[str], base: Path) -> bool:
    if not patterns:
        return False
    try:
        relative = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(
        fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
        or fnmatch.fnmatch(relative, pattern.rstrip("/") + "/*")
        for pattern in patterns
    )


def read_sources(paths: list[str], max_bytes: int, stdin: BinaryIO | None = None,
                 stdin_name: str = "-") -> Iterator[SourceText]:
    """One SourceText per input. Unreadable content becomes a ``problem``, not an exception."""
    for given in paths:
        if given == "-":
            handle = stdin or sys.stdin.buffer
            data = handle.read(max_bytes + 1)
            yield decode(stdin_name, data, max_bytes)
            continue
        try:
            with open(given, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as error:
            raise InputError(f"{given}: cannot read: {error.strerror or error}") from error
        yield decode(given, data, max_bytes)


def decode(path: str, data: bytes, max_bytes: int) -> SourceText:
    """Text of an input; binary, oversized or non-UTF-8 input is flagged on the SourceText."""
    if len(data) > max_bytes:
        source = SourceText(path, "")
        source.problem = (f"input larger than {max_bytes:,} bytes was not reviewed "
                          f"(raise max_file_bytes in the configuration to review it)", 0)
        return source
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(path, data)
    if b"\x00" in data:
        source = SourceText(path, "")
        source.problem = ("binary content (NUL bytes): not a SQL text file, not reviewed", 0)
        return source
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return SourceText(path, data.decode("utf-8"))
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        source = SourceText(path, text)
        good_prefix = data[: error.start].decode("utf-8", errors="replace")
        source.problem = (f"invalid UTF-8 byte 0x{data[error.start]:02x}; reviewed with the bad bytes "
                          f"replaced by U+FFFD (save the file as UTF-8)", len(good_prefix))
        return source


def _decode_utf16(path: str, data: bytes) -> SourceText:
    """UTF-16 with a byte-order mark (PowerShell's and SSMS's default): read it, but say so."""
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError:
        source = SourceText(path, "")
        source.problem = ("invalid UTF-16 (the file starts with a UTF-16 byte-order mark): not reviewed", 0)
        return source
    source = SourceText(path, text)
    source.problem = ("input is UTF-16; it was reviewed, but save it as UTF-8 for the other tools "
                      "in your pipeline (psql reads UTF-16 as garbage)", 0)
    return source
