"""What-if costing with REAL indexes, built inside a transaction that is always rolled back.

    with RealIndexCosting(dsn) as costing:      # only for a database the user declared --disposable
        WhatIf(costing).cost(statement, frozenset({candidate}))

For servers without hypopg (the embedded PostgreSQL has none). It needs a read-WRITE
transaction, so it runs on a dedicated connection of its own (the read-only Session is
never used for it), and the advise pipeline only creates one with ``--disposable``.

One transaction for the whole costing: each candidate is built once, when first needed
(``CREATE INDEX`` in a savepoint, so a failed build loses nothing else), and stays built
until ``close()`` rolls everything back. For each statement: a SAVEPOINT, ``DROP INDEX`` of
the built candidates on its tables that its configuration leaves out, EXPLAIN, ``ROLLBACK TO
SAVEPOINT`` (the dropped ones are back). Building per batch instead cost 5 builds per
what-if call on the demo (670 builds, 300 s at 3.5 million rows); once each, about 60.
Building takes a SHARE lock on the table until the final rollback: writers wait, which is
why this is for disposable copies only. Sizes are ``pg_relation_size`` of the built index.

Statements are proved single and side-effect free (guard.py) before anything is sent, and
sent over the extended protocol (one statement per message). ``$n`` statements are
explained as forced generic plans of a protocol-level prepared statement, as explain.py
does on PostgreSQL 15.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from psycopg import pq

from queryreview.advisor.candidates import Candidate
from queryreview.advisor.statements import WorkStatement
from queryreview.advisor.whatif import CandidateRefused, Config, Costing, PlanCost
from queryreview.errors import InputError, RuntimeFailure

_NAMES = itertools.count(1)
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_PREPARED = b"qr_whatif"


class _Failed(Exception):
    pass


class RealIndexCosting(Costing):
    validated_by = "real-index"

    def __init__(self, dsn: str | None, *, disposable: bool, statement_timeout_ms: int = 300_000,
                 lock_timeout_ms: int = 5_000) -> None:
        if not disposable:
            raise InputError("refusing to build real indexes on a database not declared disposable",
                             hint="pass --disposable only for a copy that may be locked and written to, never "
                                  "production; or install hypopg for hypothetical indexes")
        super().__init__()
        from queryreview.sources.postgres.connect import marked, open_writable

        self._marked = marked
        self.conn = open_writable(dsn, {"statement_timeout": int(statement_timeout_ms),
                                        "lock_timeout": int(lock_timeout_ms), "maintenance_work_mem": "256MB"},
                                  "queryreview")
        self._names: dict[Candidate, str] = {}
        self._built: set[Candidate] = set()  # in the open transaction
        self._refused: dict[Candidate, str] = {}
        self._prepared = False
        self._bodies: dict[str, tuple[str, int] | str] = {}  # statement key -> (body, $n count) or refusal
        self._extensions = {row[0] for row in self._rows("SELECT extname FROM pg_extension")}

    def supports(self, candidate: Candidate) -> str | None:
        if candidate.method == "gin" and any(key.opclass == "gin_trgm_ops" for key in candidate.keys) \
                and "pg_trgm" not in self._extensions:
            return "needs the pg_trgm extension, which is not installed in this database (CREATE EXTENSION pg_trgm)"
        return None

    def close(self) -> None:
        if not self.conn.closed:
            try:
                if self.conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                    self._exec("ROLLBACK")
            finally:
                self.conn.close()

    # -- Costing ---------------------------------------------------------------------------------

    def _size(self, candidate: Candidate) -> int:
        reason = self.supports(candidate)
        if reason is not None:
            raise CandidateRefused(candidate, reason)
        self._build(candidate)
        return self.sizes[candidate]

    def _plans(self, requests: list[tuple[WorkStatement, Config]]) -> list[PlanCost]:
        union = sorted(frozenset().union(*(config for _, config in requests)), key=lambda c: c.sort_key)
        for candidate in union:
            reason = self.supports(candidate)
            if reason is not None:
                raise CandidateRefused(candidate, reason)
        self._begin()
        for candidate in union:
            self._build(candidate)
        results = []
        for statement, config in requests:
            # built candidates on other tables cannot change this statement's plan: left alone
            hide = sorted((c for c in self._built if c not in config and c.table in statement.tables),
                          key=lambda c: c.sort_key)
            self._exec("SAVEPOINT qr_whatif")
            try:
                for candidate in hide:
                    self._exec(f"DROP INDEX {self._quoted_name(candidate)}")
                results.append(self._explain(statement))
            finally:
                self._exec("ROLLBACK TO SAVEPOINT qr_whatif")
                self._exec("RELEASE SAVEPOINT qr_whatif")
                if self._prepared:  # prepared statements outlive rollbacks: deallocate by name
                    self._prepared = False
                    self._exec("DEALLOCATE qr_whatif")
        return results

    # -- internals -------------------------------------------------------------------------------

    def _begin(self) -> None:
        if self.conn.pgconn.transaction_status == pq.TransactionStatus.IDLE:
            self._exec("BEGIN READ WRITE")

    def _build(self, candidate: Candidate) -> None:
        """Build the candidate in the open transaction (once); a failure refuses it and keeps the rest."""
        if candidate in self._built:
            return
        if candidate in self._refused:
            raise CandidateRefused(candidate, self._refused[candidate])
        self._begin()
        name = self._names.get(candidate) or f"qr_whatif_{next(_NAMES)}"
        self._names[candidate] = name
        self._exec("SAVEPOINT qr_build")
        try:
            self._exec(candidate.definition(name=name))
        except _Failed as error:
            self._exec("ROLLBACK TO SAVEPOINT qr_build")
            self._exec("RELEASE SAVEPOINT qr_build")
            self._refused[candidate] = str(error)
            raise CandidateRefused(candidate, str(error)) from None
        self._exec("RELEASE SAVEPOINT qr_build")
        self._built.add(candidate)
        if candidate not in self.sizes:
            rows = self._rows("SELECT pg_relation_size(to_regclass($1))", [name])
            self.sizes[candidate] = max(int(rows[0][0] or 0), 8192)

    def _quoted_name(self, candidate: Candidate) -> str:
        from queryreview.sql.resolve import quote_ident

        return quote_ident(self._names[candidate])  # our own qr_whatif_<n>; quoted all the same

    def _explain(self, statement: WorkStatement) -> PlanCost:
        from queryreview.advisor.whatif import plan_cost
        from queryreview.sources.snapshot import ExplainResult

        proved = self._proved(statement)
        if isinstance(proved, str):
            return PlanCost(None, error=proved)
        body, count = proved
        by_name = {name: candidate for candidate, name in self._names.items()}
        try:
            if count == 0:
                plan = self._rows("EXPLAIN (FORMAT JSON) " + body)[0][0]
            else:
                plan = self._generic(body)
        except _Failed as error:
            return PlanCost(None, error=str(error))
        explained = ExplainResult(plan_json=json.loads(plan), method="real-index")
        return plan_cost(explained, by_name.get)

    def _generic(self, body: str) -> str:
        """EXPLAIN of the forced generic plan of a prepared statement (values never substituted)."""
        result = self.conn.pgconn.prepare(_PREPARED, self._marked(body).encode(self.conn.info.encoding), None)
        if result.status not in _OK:
            raise _Failed(_message(result))
        self._prepared = True
        count = self.conn.pgconn.describe_prepared(_PREPARED).nparams
        self._rows("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)")
        arguments = ", ".join(["NULL"] * count)
        return self._rows(f"EXPLAIN (FORMAT JSON) EXECUTE qr_whatif({arguments})")[0][0]

    def _proved(self, statement: WorkStatement) -> tuple[str, int] | str:
        """(code to send, number of $n) once the guard has proved it one side-effect-free statement."""
        if statement.key not in self._bodies:
            from queryreview.sources.postgres import explain_params as params
            from queryreview.sources.postgres.guard import UnsafeStatement, prove_single_statement
            from queryreview.sql.split import split

            try:
                repaired, _ = params.repair_typed_literals(params.spaced_parameters(statement.text))
                prove_single_statement(repaired)
                piece = split(repaired)[0]
                body = repaired[piece.start: piece.end]
                self._bodies[statement.key] = (body, params.parameter_count(body))
            except UnsafeStatement as error:
                self._bodies[statement.key] = str(error)
        return self._bodies[statement.key]

    def _exec(self, text: str) -> None:
        self._rows(text)

    def _rows(self, text: str, values: list[str] | None = None) -> list[tuple[Any, ...]]:
        """One statement over the extended protocol (PQexecParams): the server refuses a second one."""
        if self.conn.closed:
            raise RuntimeFailure("the real-index costing connection is closed")
        data = self._marked(text).encode(self.conn.info.encoding)
        params = [value.encode() for value in values] if values else None
        result = self.conn.pgconn.exec_params(data, params)
        if result.status not in _OK:
            raise _Failed(_message(result))
        return [tuple(_text(result.get_value(row, column)) for column in range(result.nfields))
                for row in range(result.ntuples)]


def _text(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).decode("utf-8", "replace")


def _message(result) -> str:
    message = (result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or result.error_message or b"").decode(
        "utf-8", "replace")
    return " ".join(message.split()) or "the server refused the statement"
