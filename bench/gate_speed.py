"""Speed of ``queryreview gate`` and of ``check`` on a migrations folder, compared with squawk.

    python bench/gate_speed.py                    # 50 migrations, 200 statements, 3 repetitions
    python bench/gate_speed.py -r 5 --no-squawk

Builds a project under bench/out/gate-project/ (deterministic): 50 plain SQL migrations over
fifteen tables (creates, indexes with and without CONCURRENTLY, defaults, type changes, NOT
NULL, constraints, renames, drops…: the hazards both tools know, all valid on PostgreSQL 18),
200 statements over the resulting schema in app/queries/, and a snapshot with production row
counts. Then prints, as wall time of the command-line program (a fresh process each time, as CI
runs it):

  * gate, cold: a temporary embedded server (initdb included) — target < 20 s;
  * gate, warm: --pgdata reused (no initdb), and where that time goes (in-process breakdown);
  * check of the 50-file migrations folder — target < 1 s;
  * squawk on the same folder (installed with ``pip install squawk-cli`` into a venv under
    /tmp on first use; --no-squawk skips it), and the hazards each tool found that the other did
    not, compared per (file, statement, hazard kind).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "gate-project"
SQUAWK_VENV = Path(tempfile.gettempdir()) / "queryreview-bench-squawk"
GATE_TARGET_S = 20.0
CHECK_TARGET_S = 1.0
# Runs `queryreview gate` whether or not cli.py registers the command yet.
LAUNCHER = ("import sys; from queryreview.cli import main; from queryreview.cli_gate import gate; "
            "'gate' in main.commands or main.add_command(gate); sys.argv[0] = 'queryreview'; main()")

TABLES = ["customers", "orders", "order_items", "products", "payments", "shipments", "invoices", "events",
          "sessions", "accounts", "audit_log", "tags", "reviews", "coupons", "refunds"]
ROWS = {"customers": 2_000_000, "orders": 40_000_000, "order_items": 120_000_000, "products": 80_000,
        "payments": 38_000_000, "shipments": 30_000_000, "invoices": 9_000_000, "events": 300_000_000,
        "sessions": 15_000_000, "accounts": 500_000, "audit_log": 90_000_000, "tags": 400, "reviews": 3_000_000,
        "coupons": 2_000, "refunds": 700_000}
# Which hazard kind each tool's rule reports, for the comparison (unlisted rules: their own kind).
KINDS_OURS = {"QR501": "index built without CONCURRENTLY", "QR502": "index dropped without CONCURRENTLY",
              "QR503": "CONCURRENTLY inside a transaction", "QR504": "column default rewrites the table",
              "QR505": "column type change rewrites", "QR506": "SET NOT NULL scans the table",
              "QR507": "constraint validated under lock", "QR508": "unique/primary key built under lock",
              "QR509": "rename column", "QR510": "rename table", "QR511": "drop column", "QR512": "drop table",
              "QR513": "no lock_timeout", "QR514": "VACUUM FULL / CLUSTER", "QR515": "32-bit integer key",
              "QR516": "table without primary key", "QR517": "foreign key without index",
              "QR520": "foreign key without index", "QR521": "REINDEX without CONCURRENTLY"}
KINDS_SQUAWK = {"require-concurrent-index-creation": "index built without CONCURRENTLY",
                "require-concurrent-index-deletion": "index dropped without CONCURRENTLY",
                "ban-concurrent-index-creation-in-transaction": "CONCURRENTLY inside a transaction",
                "adding-field-with-default": "column default rewrites the table",
                "changing-column-type": "column type change rewrites",
                "adding-not-nullable-field": "SET NOT NULL scans the table",
                "constraint-missing-not-valid": "constraint validated under lock",
                "adding-foreign-key-constraint": "constraint validated under lock",
                "disallowed-unique-constraint": "unique/primary key built under lock",
                "adding-serial-primary-key-field": "unique/primary key built under lock",
                "renaming-column": "rename column", "renaming-table": "rename table",
                "ban-drop-column": "drop column", "ban-drop-table": "drop table",
                "require-lock-timeout": "no lock_timeout", "prefer-bigint-over-int": "32-bit integer key",
                "require-concurrent-reindex": "REINDEX without CONCURRENTLY"}


# -- the project ------------------------------------------------------------------------------------


def migrations() -> list[str]:
    """Fifty migrations, in order; every one applies on PostgreSQL 18 after the ones before."""
    files: list[str] = []
    for number, table in enumerate(TABLES):
        key = "serial PRIMARY KEY" if number % 5 == 1 else "bigserial PRIMARY KEY" if number % 7 != 3 else "bigint"
        parent = TABLES[number - 1] if number else None
        reference = f",\n    {parent}_id bigint NOT NULL REFERENCES {parent} (id)" if parent and number % 7 != 4 else ""
        if parent and number % 7 == 4:
            reference = f",\n    {parent}_id bigint NOT NULL"
        files.append(f"CREATE TABLE {table} (\n    id {key}{reference},\n    name varchar(50),\n"
                     f"    status text NOT NULL DEFAULT 'new',\n    amount integer,\n"
                     f"    created_at timestamptz NOT NULL DEFAULT now()\n);\n")
    for number, table in enumerate(TABLES[1:], start=1):
        parent = TABLES[number - 1]
        if number % 3 == 0:
            files.append(f"SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY {table}_{parent}_id_idx "
                         f"ON {table} ({parent}_id);\n")
        elif number % 3 == 1:
            files.append(f"CREATE INDEX {table}_{parent}_id_idx ON {table} ({parent}_id);\n")
    for number, table in enumerate(TABLES[:13]):
        kind = number % 13
        if kind == 0:
            body = f"ALTER TABLE {table} ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
        elif kind == 1:
            body = f"SET lock_timeout = '2s';\nALTER TABLE {table} ADD COLUMN region text DEFAULT 'eu';\n"
        elif kind == 2:
            body = f"ALTER TABLE {table} ALTER COLUMN amount TYPE bigint;\n"
        elif kind == 3:
            body = f"SET lock_timeout = '2s';\nALTER TABLE {table} ALTER COLUMN name TYPE varchar(200);\n"
        elif kind == 4:
            body = f"ALTER TABLE {table} ALTER COLUMN name SET NOT NULL;\n"
        elif kind == 5:
            body = (f"SET lock_timeout = '2s';\nALTER TABLE {table} ADD CONSTRAINT {table}_amount_positive "
                    f"CHECK (amount > 0) NOT VALID;\nALTER TABLE {table} VALIDATE CONSTRAINT {table}_amount_positive;\n")
        elif kind == 6:
            body = f"ALTER TABLE {table} ADD CONSTRAINT {table}_name_key UNIQUE (name);\n"
        elif kind == 7:
            body = (f"SET lock_timeout = '2s';\nCREATE UNIQUE INDEX CONCURRENTLY {table}_status_name_key "
                    f"ON {table} (status, name);\n")
        elif kind == 8:
            body = f"ALTER TABLE {table} RENAME COLUMN name TO title;\n"
        elif kind == 9:
            body = f"ALTER TABLE {table} DROP COLUMN amount;\n"
        elif kind == 10:
            body = f"VACUUM FULL {table};\n"
        elif kind == 11:
            body = f"ALTER TABLE {table} ADD COLUMN account_id bigint REFERENCES accounts (id);\n"
        else:
            body = f"ALTER TABLE {table} ADD COLUMN score integer NOT NULL DEFAULT 0;\n"
        files.append(body)
    files.append("CREATE TABLE archive_events (LIKE events);\nDROP TABLE archive_events;\n")
    files.append("ALTER TABLE coupons RENAME TO vouchers;\n")
    files.append("DROP INDEX orders_customers_id_idx;\n")
    files.append("SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY events_status_idx ON events (status);\n")
    files.append("REINDEX TABLE sessions;\n")
    files.append("SET lock_timeout = '2s';\nALTER TABLE refunds ADD CONSTRAINT refunds_vouchers_fk FOREIGN KEY "
                 "(coupons_id) REFERENCES vouchers (id) NOT VALID;\n")
    files.append("SET lock_timeout = '2s';\nALTER TABLE refunds VALIDATE CONSTRAINT refunds_vouchers_fk;\n")
    files.append("ALTER TABLE products ADD PRIMARY KEY (id);\n")
    files.append("CREATE TABLE tmp_import (id int, payload text);\n")
    files.append("CLUSTER sessions USING sessions_pkey;\n")
    files.append("SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN status DROP DEFAULT;\n")
    files.append("ALTER TABLE customers ADD COLUMN tier text;\n")
    files.append("DROP INDEX CONCURRENTLY IF EXISTS events_status_idx;\n")
    assert len(files) == 50, len(files)
    return files


def statements() -> list[str]:
    """200 statements over the migrated schema: lookups, joins, lists, aggregates, writes."""
    names = {table: table for table in TABLES}
    names["coupons"] = "vouchers"
    found: list[str] = []
    for number, table in enumerate(TABLES):
        name = names[table]
        parent = names[TABLES[number - 1]] if number else None
        fk = f"{TABLES[number - 1]}_id" if number else None
        found += [
            f"SELECT * FROM {name} WHERE id = $1",
            f"SELECT id, status FROM {name} WHERE status = $1 ORDER BY created_at DESC LIMIT 50",
            f"SELECT count(*) FROM {name} WHERE created_at > $1",
            f"UPDATE {name} SET status = $2 WHERE id = $1",
            f"DELETE FROM {name} WHERE id = $1",
            f"SELECT id FROM {name} ORDER BY id LIMIT 100",
            f"SELECT status, count(*) FROM {name} GROUP BY status",
            f"SELECT id, created_at FROM {name} WHERE id > $1 ORDER BY id LIMIT 100",
            f"SELECT id FROM {name} WHERE created_at BETWEEN $1 AND $2 ORDER BY created_at",
            f"INSERT INTO {name} (status) VALUES ($1) RETURNING id",
        ]
        if fk:
            found += [
                f"SELECT * FROM {name} WHERE {fk} = $1",
                f"SELECT p.id, c.id FROM {parent} p JOIN {name} c ON c.{fk} = p.id WHERE p.id = $1",
                f"SELECT c.* FROM {name} c WHERE c.{fk} = $1 ORDER BY c.created_at DESC LIMIT 20",
            ]
    found += [f"SELECT id FROM {names[table]} WHERE status = $1 AND created_at < $2" for table in TABLES]
    return found[:200]


def build_project() -> Path:
    from queryreview.catalog import Catalog
    from queryreview.sources.snapshot import Snapshot, write_snapshot

    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "db" / "migrations").mkdir(parents=True)
    (OUT / "app" / "queries").mkdir(parents=True)
    for number, body in enumerate(migrations(), start=1):
        (OUT / "db" / "migrations" / f"{number:03d}_step.sql").write_text(body)
    queries = statements()
    for start in range(0, len(queries), 20):
        chunk = queries[start:start + 20]
        (OUT / "app" / "queries" / f"q{start // 20:02d}.sql").write_text("".join(f"{q};\n\n" for q in chunk))
    tables = [{"name": "vouchers" if t == "coupons" else t, "rows": ROWS[t]} for t in TABLES]
    write_snapshot(Snapshot(catalog=Catalog.from_dict({"server_version_num": 180006, "tables": tables})),
                   OUT / "prod-snapshot.json.gz")
    return OUT


# -- measuring ---------------------------------------------------------------------------------------


def wall(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, done


def gate_command(*extra: str) -> list[str]:
    return [sys.executable, "-c", LAUNCHER, "gate", "--migrations", "db/migrations", "--queries", "app/queries",
            "--stats", "prod-snapshot.json.gz", "--baseline", "baseline.json", *extra]


def run_gate(project: Path, repetitions: int) -> None:
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="qr-bench-xdg-"))
    seconds, done = wall(gate_command("--update-baseline"), project, env)
    if done.returncode != 0:
        sys.exit(f"gate failed ({done.returncode}):\n{done.stderr}\n{done.stdout[-2000:]}")
    accepted = json.loads((project / "baseline.json").read_text())
    full_scans = sum(len(entry["full_scans"]) for entry in accepted["statements"].values())
    planned = next((line for line in done.stdout.splitlines() if "planned" in line), "")
    print(f"  project: 50 migrations, {len(statements())} statements; {planned.removeprefix('note: ')}; "
          f"{full_scans} full scans of large tables accepted into the baseline")
    cold = []
    for _ in range(repetitions):
        seconds, done = wall(gate_command(), project, env)
        assert done.returncode == 0, done.stderr + done.stdout[-2000:]
        cold.append(seconds)
    print(f"  gate, cold (temporary server, initdb): median {statistics.median(cold):6.2f} s  "
          f"(best {min(cold):.2f} s)   target < {GATE_TARGET_S:.0f} s: "
          f"{'met' if statistics.median(cold) < GATE_TARGET_S else 'MISSED'}")
    pgdata = Path(tempfile.mkdtemp(prefix="qr-bench-pg-"))
    pgdata.chmod(0o755)
    try:
        wall(gate_command("--pgdata", str(pgdata / "data")), project, env)  # initdb once
        warm = []
        for _ in range(repetitions):
            seconds, done = wall(gate_command("--pgdata", str(pgdata / "data")), project, env)
            assert done.returncode == 0, done.stderr
            warm.append(seconds)
        print(f"  gate, warm (--pgdata reused):          median {statistics.median(warm):6.2f} s  "
              f"(best {min(warm):.2f} s)")
        breakdown(project, str(pgdata / "data"))
    finally:
        shutil.rmtree(pgdata, ignore_errors=True)


def breakdown(project: Path, pgdata: str) -> None:
    """Where a warm gate run spends its time, in-process (wrapping the pipeline's steps)."""
    from queryreview import gate_pipeline
    from queryreview.rules import registry
    from queryreview.sources import embedded, gate_target

    spent: dict[str, float] = defaultdict(float)

    def timing(owner, attribute: str, label: str) -> None:
        original = getattr(owner, attribute)

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        setattr(owner, attribute, wrapper)

    timing(registry, "all_rules", "load the rule catalog (all YAML)")
    timing(embedded.EmbeddedServer, "start", "start the embedded server")
    timing(gate_target, "apply_migrations", "apply 50 migrations")
    timing(gate_pipeline, "_plan_all", "catalog + EXPLAIN of every statement")
    timing(gate_pipeline, "_review_plans", "QR316 over the plans")
    cwd = os.getcwd()
    os.chdir(project)
    started = time.perf_counter()
    try:
        gate_pipeline.gate(gate_pipeline.GateOptions(migrations="db/migrations", queries=["app/queries"],
                                                     stats="prod-snapshot.json.gz", baseline="baseline.json",
                                                     pgdata=pgdata))
    finally:
        os.chdir(cwd)
    total = time.perf_counter() - started
    print(f"    in-process warm run: {total:.2f} s")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"      {seconds:6.2f} s  {label}")


def run_check(project: Path, repetitions: int) -> tuple[float, list[dict]]:
    command = [sys.executable, "-m", "queryreview", "check", "db/migrations", "--format", "json", "--fail-on", "never"]
    times = []
    for _ in range(repetitions):
        seconds, done = wall(command, project)
        assert done.returncode == 0, done.stderr
        times.append(seconds)
    findings = json.loads(done.stdout)["findings"]
    median = statistics.median(times)
    print(f"  check db/migrations (50 files):        median {median:6.2f} s  (best {min(times):.2f} s)   "
          f"target < {CHECK_TARGET_S:.0f} s: {'met' if median < CHECK_TARGET_S else 'MISSED'}")
    return median, findings


def squawk_binary() -> Path | None:
    binary = SQUAWK_VENV / "bin" / "squawk"
    if binary.exists():
        return binary
    print(f"  installing squawk-cli into {SQUAWK_VENV} …")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(SQUAWK_VENV)], check=True, capture_output=True)
        subprocess.run([str(SQUAWK_VENV / "bin" / "pip"), "install", "-q", "squawk-cli"], check=True,
                       capture_output=True)
    except subprocess.CalledProcessError as error:
        print(f"  squawk not available: {error.stderr.decode(errors='replace')[-300:]}")
        return None
    return binary if binary.exists() else None


def run_squawk(project: Path, repetitions: int) -> tuple[float, list[dict]] | None:
    binary = squawk_binary()
    if binary is None:
        return None
    files = sorted(str(path.relative_to(project)) for path in (project / "db" / "migrations").glob("*.sql"))
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    times = []
    for _ in range(repetitions):
        seconds, done = wall([str(binary), "--reporter", "json", *files], project)
        times.append(seconds)
    median = statistics.median(times)
    print(f"  {version} on the same files:        median {median:6.2f} s  (best {min(times):.2f} s)")
    return median, json.loads(done.stdout or "[]")


def compare(project: Path, ours: list[dict], squawk: list[dict]) -> None:
    """Hazards per (file, statement, kind): found by both, by one only."""
    from queryreview.model import SourceText
    from queryreview.sql.split import split

    def statement_of(path: str, line: int) -> int:
        text = (project / path).read_text()
        source = SourceText(path, text)
        for index, raw in enumerate(split(text)):
            first, _ = source.position(raw.start)
            last, _ = source.position(raw.end)
            if first <= line <= last:
                return index
        return -1

    mine = {(f["location"]["path"], statement_of(f["location"]["path"], f["location"]["line"]),
             KINDS_OURS.get(f["code"], f"{f['code']} {f['rule']}")) for f in ours if f["code"].startswith("QR5")}
    theirs = {(f["file"], statement_of(f["file"], f["line"] + 1),  # squawk's lines are 0-based
               KINDS_SQUAWK.get(f["rule_name"], f"squawk {f['rule_name']}")) for f in squawk}
    kinds = sorted({kind for _, _, kind in mine | theirs})
    print(f"\n  hazards per statement ({len(mine)} ours, {len(theirs)} squawk's):")
    print(f"    {'kind':<42} {'both':>5} {'ours only':>10} {'squawk only':>12}")
    for kind in kinds:
        a = {(p, s) for p, s, k in mine if k == kind}
        b = {(p, s) for p, s, k in theirs if k == kind}
        print(f"    {kind:<42} {len(a & b):>5} {len(a - b):>10} {len(b - a):>12}")
    for label, only in (("found by queryreview only", mine - theirs), ("found by squawk only", theirs - mine)):
        by_kind: dict[str, list[str]] = defaultdict(list)
        for path, index, kind in sorted(only):
            by_kind[kind].append(f"{Path(path).name}#{index + 1}")
        print(f"\n  {label}:")
        for kind, where in sorted(by_kind.items()):
            print(f"    {kind}: {', '.join(where[:6])}{' …' if len(where) > 6 else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-r", "--repetitions", type=int, default=3)
    parser.add_argument("--no-squawk", action="store_true", help="skip the squawk comparison")
    parser.add_argument("--no-gate", action="store_true", help="skip the gate runs (check and squawk only)")
    args = parser.parse_args()
    project = build_project()
    print(f"gate_speed: project in {project.relative_to(ROOT)}, load average {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} CPUs")
    if not args.no_gate:
        run_gate(project, args.repetitions)
    _, ours = run_check(project, max(args.repetitions, 5))
    if not args.no_squawk:
        result = run_squawk(project, max(args.repetitions, 5))
        if result is not None:
            compare(project, ours, result[1])


if __name__ == "__main__":
    main()
