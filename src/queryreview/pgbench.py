"""pgbench as a workload driver: weighted script files in, measured latencies out.

    run = run_pgbench(pgbench, dsn, [Script(Path("home.sql"), 30), Script(Path("login.sql"), 5)],
                      duration_s=15, clients=4, jobs=2, variables={"customers": 50000})
    run.latency_mean_ms, run.latency_p95_ms, run.per_script["home"].tps, run.per_statement[0].latency_ms

Mean and percentiles come from pgbench's per-transaction log (``-l``), so they share one
source; the per-second progress lines (``-P 1``) give the throughput's spread over the run,
which says how noisy the measurement was. pgbench truncates long commands in its
per-command report (``-r``); the full text is recovered from the script files.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from queryreview.errors import RuntimeFailure

Progress = Callable[[str], None]

_PROGRESS_LINE = re.compile(r"^progress: ([\d.]+) s, ([\d.]+) tps, lat ([\d.]+) ms")
_STATEMENT_LINE = re.compile(r"^\s+(-?[\d.]+)\s+(\d+)\s(.*)$")
_SCRIPT_HEADER = re.compile(r"^SQL script (\d+): (.*)$")
_GSET = re.compile(r"^(.*?)\s*\\[ga]set(?:\s+\w+)?$")
_SUMMARY = {
    "transactions": re.compile(r"^number of transactions actually processed: (\d+)"),
    "failed": re.compile(r"^number of failed transactions: (\d+)"),
    "latency_mean_ms": re.compile(r"^latency average = ([\d.]+) ms"),
    "tps": re.compile(r"^tps = ([\d.]+) \(without initial connection time\)"),
}
_SCRIPT_SUMMARY = {
    "transactions": re.compile(r"^ - number of transactions actually processed: (\d+)"),
    "tps": re.compile(r"^ - number of transactions actually processed: \d+ \(tps = ([\d.]+)\)"),
    "failed": re.compile(r"^ - number of failed transactions: (\d+)"),
    "latency_mean_ms": re.compile(r"^ - latency average = ([\d.]+) ms"),
}


@dataclass(frozen=True)
class Script:
    """A pgbench script file and its weight in the mix (``-f path@weight``)."""

    path: Path
    weight: int = 1

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class StatementLatency:
    """One command of a script: its mean latency over the run (pgbench ``--report-per-command``)."""

    script: str
    command: str
    latency_ms: float
    failures: int


@dataclass(frozen=True)
class ScriptRun:
    """One script's share of a run."""

    name: str
    weight: int
    transactions: int
    failed: int
    tps: float
    latency_mean_ms: float
    latency_p95_ms: float | None


@dataclass(frozen=True)
class WorkloadRun:
    """What one pgbench run measured. Latencies are per transaction (a script run once), in ms."""

    tps: float
    latency_mean_ms: float
    latency_p95_ms: float
    transactions: int
    duration_s: float
    per_script: dict[str, ScriptRun]
    per_statement: list[StatementLatency]
    raw_log: Path | None
    failed: int = 0
    latency_p50_ms: float = 0.0
    latency_p99_ms: float = 0.0
    latency_stddev_ms: float = 0.0
    tps_per_second: tuple[float, ...] = ()  # from the progress lines: the spread says how noisy the run was
    clients: int = 1
    jobs: int = 1
    command: tuple[str, ...] = field(default=())  # the pgbench arguments, without the connection string

    @property
    def tps_cv(self) -> float | None:
        """Coefficient of variation of the per-second throughput (stddev / mean), None below 3 samples."""
        samples = self.tps_per_second[1:]  # the first second includes connecting and preparing
        if len(samples) < 3:
            return None
        mean = sum(samples) / len(samples)
        if mean <= 0:
            return None
        return math.sqrt(sum((value - mean) ** 2 for value in samples) / (len(samples) - 1)) / mean

    def to_dict(self) -> dict:
        """A JSON-ready dict (paths as strings)."""
        data = asdict(self)
        data["raw_log"] = str(self.raw_log) if self.raw_log else None
        data["tps_cv"] = self.tps_cv
        return data


def run_pgbench(pgbench: Path, dsn: str, scripts: Sequence[Script], *, duration_s: float, clients: int = 4,
                jobs: int = 2, variables: Mapping[str, object] | None = None, query_mode: str = "prepared",
                log_dir: Path | None = None, progress: Progress | None = None,
                application_name: str = "queryreview workload") -> WorkloadRun:
    """Run the scripts for ``duration_s`` seconds and parse what pgbench measured.

    With ``log_dir`` the report (``pgbench.txt``) and the transaction logs stay there; without,
    they go to a temporary directory that is removed afterwards.
    """
    if not scripts:
        raise RuntimeFailure("pgbench: no script to run")
    seconds = max(1, round(duration_s))
    args = ["-n", "-M", query_mode, "-T", str(seconds), "-c", str(clients), "-j", str(min(jobs, clients)),
            "-P", "1", "--report-per-command"]
    for name, value in (variables or {}).items():
        args += ["-D", f"{name}={value}"]
    for script in scripts:
        args += ["-f", f"{script.path}@{script.weight}"]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        return _run(pgbench, dsn, args, scripts, seconds, log_dir, True, progress, application_name)
    with tempfile.TemporaryDirectory(prefix="qr-pgbench-") as temporary:
        return _run(pgbench, dsn, args, scripts, seconds, Path(temporary), False, progress, application_name)


def _run(pgbench: Path, dsn: str, args: list[str], scripts: Sequence[Script], seconds: int, out: Path, keep: bool,
         progress: Progress | None, application_name: str) -> WorkloadRun:
    prefix = out / "transactions"
    command = [str(pgbench), *args, "-l", f"--log-prefix={prefix}", dsn]
    env = dict(os.environ, PGAPPNAME=application_name)
    report_path = out / "pgbench.txt"
    tps_per_second: list[float] = []
    stderr_lines: list[str] = []
    with report_path.open("w") as report:
        try:
            process = subprocess.Popen(command, stdout=report, stderr=subprocess.PIPE, text=True, cwd=out, env=env)
        except OSError as error:
            raise RuntimeFailure(f"cannot run pgbench ({pgbench}): {error}") from error
        assert process.stderr is not None
        for line in process.stderr:
            match = _PROGRESS_LINE.match(line)
            if match is None:
                stderr_lines.append(line.rstrip())
                continue
            tps_per_second.append(float(match.group(2)))
            if progress is not None:
                progress(f"workload {float(match.group(1)):.0f}/{seconds} s: {float(match.group(2)):,.1f} tps, "
                         f"{float(match.group(3)):,.1f} ms per transaction")
        returncode = process.wait()
    text = report_path.read_text()
    if returncode != 0:
        last = next((line for line in reversed(stderr_lines) if line.strip()), f"exit code {returncode}")
        raise RuntimeFailure(f"pgbench failed: {last}", hint=f"see {report_path}" if keep else None)
    with report_path.open("a") as report:
        report.write("\n".join(stderr_lines) + "\n")
    latencies = _transaction_latencies(out, prefix.name)
    return _parse(text, scripts, latencies, tuple(tps_per_second), seconds, args,
                  report_path if keep else None)


def _transaction_latencies(directory: Path, prefix: str) -> dict[int, list[float]]:
    """Per script number: the latency (ms) of every transaction that finished, from the ``-l`` logs."""
    by_script: dict[int, list[float]] = {}
    for path in sorted(directory.glob(f"{prefix}.*")):
        with path.open() as handle:
            for line in handle:
                fields = line.split()
                if len(fields) < 6 or not fields[2].isdigit():
                    continue  # failed or skipped transactions log a word instead of a time
                by_script.setdefault(int(fields[3]), []).append(int(fields[2]) / 1000.0)
    return by_script


def _parse(text: str, scripts: Sequence[Script], latencies: dict[int, list[float]],
           tps_per_second: tuple[float, ...], seconds: int, args: list[str], raw_log: Path | None) -> WorkloadRun:
    summary: dict[str, float] = {}
    sections: dict[int, dict[str, float]] = {}
    statements: list[StatementLatency] = []
    commands = {index: _commands(script.path) for index, script in enumerate(scripts)}
    current = 0
    cursor = 0  # position in the current script's commands: the report lists them in order
    for line in text.splitlines():
        header = _SCRIPT_HEADER.match(line)
        if header:
            current, cursor = int(header.group(1)) - 1, 0
            sections[current] = {}
            continue
        statement = _STATEMENT_LINE.match(line)
        if statement:
            shown = statement.group(3).strip()
            full, cursor = _full_command(commands.get(current, []), shown, cursor)
            if not full.startswith("\\"):
                statements.append(StatementLatency(scripts[current].name if current < len(scripts) else str(current),
                                                   full, float(statement.group(1)), int(statement.group(2))))
            continue
        patterns = _SCRIPT_SUMMARY if line.startswith(" - ") else _SUMMARY
        target = sections.setdefault(current, {}) if line.startswith(" - ") else summary
        for key, pattern in patterns.items():
            match = pattern.match(line)
            if match:
                target[key] = float(match.group(1))
    everything = sorted(value for values in latencies.values() for value in values)
    per_script = {}
    for index, script in enumerate(scripts):
        section = sections.get(index, summary if len(scripts) == 1 else {})
        own = sorted(latencies.get(index, []))
        per_script[script.name] = ScriptRun(
            name=script.name, weight=script.weight,
            transactions=int(section.get("transactions", len(own))), failed=int(section.get("failed", 0)),
            tps=section.get("tps", summary.get("tps", 0.0) if len(scripts) == 1 else 0.0),
            latency_mean_ms=_mean(own) if own else section.get("latency_mean_ms", 0.0),
            latency_p95_ms=_percentile(own, 0.95) if own else None,
        )
    if "transactions" not in summary:
        raise RuntimeFailure("pgbench printed no summary (was the run interrupted?)")
    return WorkloadRun(
        tps=summary.get("tps", 0.0),
        latency_mean_ms=_mean(everything) if everything else summary.get("latency_mean_ms", 0.0),
        latency_p95_ms=_percentile(everything, 0.95) if everything else 0.0,
        transactions=int(summary["transactions"]),
        duration_s=float(seconds),
        per_script=per_script,
        per_statement=statements,
        raw_log=raw_log,
        failed=int(summary.get("failed", 0)),
        latency_p50_ms=_percentile(everything, 0.50) if everything else 0.0,
        latency_p99_ms=_percentile(everything, 0.99) if everything else 0.0,
        latency_stddev_ms=_stddev(everything),
        tps_per_second=tps_per_second,
        clients=int(args[args.index("-c") + 1]),
        jobs=int(args[args.index("-j") + 1]),
        command=("pgbench", *args),
    )


def _commands(path: Path) -> list[str]:
    """The commands of a script as pgbench lists them: meta-commands and SQL, comments dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    commands: list[str] = []
    pending: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("--")):
            continue
        if not pending and line.startswith("\\"):
            commands.append(line)
            continue
        stored = _GSET.match(line)  # `… \gset [prefix]` ends the command and stores its row
        pending.append(stored.group(1) if stored else line)
        if stored or line.endswith(";") or line.split("--")[0].rstrip().endswith(";"):
            commands.append(" ".join(pending))
            pending = []
    if pending:
        commands.append(" ".join(pending))
    return commands


def _full_command(commands: list[str], shown: str, cursor: int) -> tuple[str, int]:
    """The script command pgbench showed (maybe truncated) as ``shown``, searching from ``cursor``."""
    for index in range(cursor, len(commands)):
        if commands[index].startswith(shown) or " ".join(commands[index].split()).startswith(" ".join(shown.split())):
            return commands[index], index + 1
    return shown, cursor


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _stddev(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = _mean(values)
    return math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
