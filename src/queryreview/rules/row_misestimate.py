"""QR303 row-misestimate: the planner's row estimate was off by an order of magnitude where it matters."""

from __future__ import annotations

from typing import Any, Iterator

from queryreview.model import Fix, Hit
from queryreview.plan.advice import qualified, rows
from queryreview.plan.exprs import columns_in, quote_ident, sort_keys, tables_and_columns
from queryreview.plan.tree import Plan, PlanNode

# Consumers whose plan choice (join method, memory, sort strategy) depends on the input's row count.
_SENSITIVE = frozenset(("Nested Loop", "Hash Join", "Merge Join", "Hash", "Sort", "Incremental Sort", "Aggregate",
                        "Group", "Unique", "SetOp", "Memoize", "Materialize", "WindowAgg"))
# Nodes that pass rows on unchanged: look through them for the consumer.
_TRANSPARENT = frozenset(("Gather", "Gather Merge", "Result", "Subquery Scan", "Append", "Merge Append"))
_JOINS = ("Nested Loop", "Hash Join", "Merge Join")
_AGGREGATES = ("Aggregate", "Group")
_BITMAP_PARTS = ("Bitmap Index Scan", "BitmapAnd", "BitmapOr")
_CONDITION_KEYS = ("Filter", "Index Cond", "Recheck Cond")
_JOIN_KEYS = ("Hash Cond", "Merge Cond", "Join Filter")
_STATISTICS_NAME_MAX = 63


def check(plan: Plan, settings: dict[str, Any]) -> Iterator[Hit]:
    if not plan.analyzed:
        return  # actual rows exist only with ANALYZE
    factor_limit = settings["min_factor"]
    for node in plan.nodes:
        factor = node.estimate_factor
        if factor is None or factor < factor_limit or node.node_type in _BITMAP_PARTS:
            continue
        if not (node.relation or node.node_type in _JOINS or node.node_type in _AGGREGATES):
            continue  # sorts, hashes, limits… only pass on their input's error
        actual, estimated = node.actual_rows or 0.0, node.plan_rows
        if max(actual, estimated) * node.loops < settings["min_rows"]:
            continue
        if actual < estimated and node.may_stop_early:
            continue  # a Limit (or semi join, EXISTS) stopped reading early: fewer rows are expected
        if factor < factor_limit * _inherited_factor(node):
            continue  # the error comes from an input, reported there
        consumer = _consumer(node)
        if consumer is None:
            continue  # nothing downstream was planned on this estimate
        yield _hit(plan, node, consumer, factor)


def _inherited_factor(node: PlanNode) -> float:
    """The worst estimate error among the node's inputs (bitmap parts of a heap scan are not inputs)."""
    worst = 1.0
    for child in node.children:
        if child.is_subplan or child.node_type in _BITMAP_PARTS or child.never_executed:
            continue
        worst = max(worst, child.estimate_factor or 1.0)
    return worst


def _consumer(node: PlanNode) -> PlanNode | None:
    current = node.flow_parent
    while current is not None and current.node_type in _TRANSPARENT:
        current = current.flow_parent
    return current if current is not None and current.node_type in _SENSITIVE else None


def _hit(plan: Plan, node: PlanNode, consumer: PlanNode, factor: float) -> Hit:
    actual, estimated = node.actual_rows or 0.0, node.plan_rows
    direction = "more" if actual > estimated else "fewer"
    per_loop = " per loop" if node.loops > 1 else ""
    basis = _basis(node)
    message = (f"{node.label()} (node {node.id}): the planner expected {rows(estimated)} row"
               f"{'s' if estimated != 1 else ''}{per_loop} and got {rows(actual)} ({factor:,.0f}x {direction})"
               f"{basis}; {consumer.label()} (node {consumer.id}) was planned on that estimate")
    advice, statements = _advice(plan, node)
    return Hit(
        message=message,
        help=advice,
        fix=Fix("Give the planner better statistics (ANALYZE is cheap and safe; extended statistics are "
                "collected by the next ANALYZE)", "\n".join(statements)) if statements else None,
        evidence={
            "node": node.id,
            "node_type": node.node_type,
            "relation": node.relation,
            "estimated_rows": estimated,
            "actual_rows": actual,
            "loops": node.loops,
            "factor": round(factor, 1),
            "consumer": consumer.id,
        },
    )


def _basis(node: PlanNode) -> str:
    for key in _CONDITION_KEYS + _JOIN_KEYS:
        if node.get(key):
            return f" with {key} {node.get(key)}"
    keys = node.get("Group Key")
    if keys:
        return f" grouping by {', '.join(keys)}"
    return ""


def _advice(plan: Plan, node: PlanNode) -> tuple[str, list[str]]:
    """The help sentence and the SQL, by where the estimate comes from."""
    if node.relation:
        texts = [node.get(key) for key in _CONDITION_KEYS if node.get(key)]
        for below in node.walk():
            if below.node_type == "Bitmap Index Scan" and below.get("Index Cond"):
                texts.append(below.get("Index Cond"))
        columns = list(dict.fromkeys(c for text in texts for c in columns_in(text, node.alias)))
        return _table_advice(node.relation, columns, "filter")
    if node.node_type in _AGGREGATES:
        tables = _tables_by_alias(node)
        only = next(iter(tables.values())) if len(set(tables.values())) == 1 else None
        by_table: dict[str, list[str]] = {}
        for key in sort_keys(node.get("Group Key")):
            relation = tables.get(key.table) if key.table else only
            if relation and key.column:
                by_table.setdefault(relation, []).append(key.column)
        if len(by_table) == 1:
            relation, columns = next(iter(by_table.items()))
            return _table_advice(relation, columns, "grouping")
    relations = _join_relations(node) if node.node_type in _JOINS else []
    relations = relations or list(dict.fromkeys(n.relation for n in node.walk() if n.relation))
    statements = [f"ANALYZE {qualified(relation)};" for relation in relations]
    return (f"Refresh the statistics of the tables involved ({' '.join(statements)}); if the estimate stays off, "
            f"raise the statistics target of the join columns (ALTER TABLE … ALTER COLUMN … SET STATISTICS 1000) "
            f"and ANALYZE again", statements)


def _table_advice(relation: str, columns: list[str], what: str) -> tuple[str, list[str]]:
    table = qualified(relation)
    analyze = f"ANALYZE {table};"
    if len(columns) >= 2:
        name = quote_ident(_statistics_name(relation, columns))
        create = (f"CREATE STATISTICS {name} (dependencies, ndistinct, mcv) ON "
                  f"{', '.join(quote_ident(c) for c in columns)} FROM {table};")
        return (f"The {what} combines columns that depend on each other, which per-column statistics cannot see: "
                f"{create} then {analyze} (if the table changed much since its last ANALYZE, that alone may "
                f"be enough)", [create, analyze])
    if len(columns) == 1:
        alter = f"ALTER TABLE {table} ALTER COLUMN {quote_ident(columns[0])} SET STATISTICS 1000;"
        return (f"Refresh the statistics: {analyze} if the estimate stays off, sample {columns[0]} in more "
                f"detail: {alter} then {analyze}", [analyze])
    return f"Refresh the statistics: {analyze}", [analyze]


def _statistics_name(relation: str, columns: list[str]) -> str:
    table = relation.rsplit(".", 1)[-1]
    return f"{table}_{'_'.join(columns)}_stats"[:_STATISTICS_NAME_MAX]


def _tables_by_alias(node: PlanNode) -> dict[str | None, str]:
    return {n.alias: n.relation for n in node.walk() if n.relation}


def _join_relations(node: PlanNode) -> list[str]:
    """Tables whose columns the join condition compares (via the scans' aliases)."""
    tables = _tables_by_alias(node)
    found: list[str] = []
    for key in _JOIN_KEYS:
        for qualifier, _ in tables_and_columns(node.get(key) or ""):
            relation = tables.get(qualifier)
            if relation and relation not in found:
                found.append(relation)
    return found
