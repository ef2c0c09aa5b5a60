"""Plan tree from EXPLAIN (FORMAT JSON), with or without ANALYZE, BUFFERS, SETTINGS, WAL.

    plan = parse_plan(text)            # str, bytes, or the decoded JSON
    for node in plan.nodes:            # pre-order; node.id is the position (1-based)
        node.node_type, node.relation, node.exclusive_time, node.estimate_factor

Derived figures per node: total rows over all loops, inclusive/exclusive (self) time and
cost, the estimate error factor and the share of the plan's total time (or cost).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from queryreview.errors import InputError

EXPLAIN_HINT = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) <query>   -- or EXPLAIN (FORMAT JSON) without running it"


@dataclass(eq=False)
class PlanNode:
    id: int
    node_type: str
    raw: dict[str, Any]  # the node's own keys, without "Plans"
    children: list[PlanNode] = field(default_factory=list)
    parent: PlanNode | None = field(default=None, repr=False)
    depth: int = 0
    exclusive_time: float | None = None  # ms over all loops, None without ANALYZE
    exclusive_cost: float = 0.0
    share: float = 0.0  # of the plan's total time (ANALYZE) or total cost

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    @property
    def relation(self) -> str | None:
        """``schema.table`` when the plan says the schema (VERBOSE), else the table name."""
        name = self.raw.get("Relation Name")
        if name and self.raw.get("Schema"):
            return f"{self.raw['Schema']}.{name}"
        return name

    @property
    def index_name(self) -> str | None:
        return self.raw.get("Index Name")

    @property
    def parent_relationship(self) -> str | None:
        return self.raw.get("Parent Relationship")

    @property
    def plan_rows(self) -> float:
        return float(self.raw.get("Plan Rows", 0) or 0)

    @property
    def total_cost(self) -> float:
        return float(self.raw.get("Total Cost", 0.0) or 0.0)

    @property
    def startup_cost(self) -> float:
        return float(self.raw.get("Startup Cost", 0.0) or 0.0)

    @property
    def analyzed(self) -> bool:
        return "Actual Loops" in self.raw

    @property
    def loops(self) -> int:
        return int(self.raw.get("Actual Loops", 1) or 0)

    @property
    def actual_rows(self) -> float | None:
        """Rows per loop as EXPLAIN ANALYZE shows them."""
        value = self.raw.get("Actual Rows")
        return None if value is None else float(value)

    @property
    def total_rows(self) -> float | None:
        """Rows produced over all loops."""
        rows = self.actual_rows
        return None if rows is None else rows * self.loops

    @property
    def inclusive_time(self) -> float | None:
        """Milliseconds spent in this node and below, over all loops."""
        value = self.raw.get("Actual Total Time")
        return None if value is None else float(value) * self.loops

    @property
    def estimate_factor(self) -> float | None:
        """How far the row estimate was off: >= 1, in either direction (None without ANALYZE or never run)."""
        actual = self.actual_rows
        if actual is None or self.loops == 0:
            return None
        estimated = max(self.plan_rows, 1.0)
        actual = max(actual, 1.0)
        return max(actual / estimated, estimated / actual)

    @property
    def never_executed(self) -> bool:
        return self.analyzed and self.loops == 0

    def label(self) -> str:
        """``Seq Scan on orders`` / ``Index Scan using orders_pkey on orders`` / ``Hash Join``."""
        text = self.node_type
        if self.index_name:
            text += f" using {self.index_name}"
        if self.relation:
            text += f" on {self.relation}"
            alias = self.raw.get("Alias")
            if alias and alias != self.raw.get("Relation Name"):
                text += f" {alias}"
        elif self.raw.get("CTE Name"):
            text += f" on {self.raw['CTE Name']}"
        return text

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(eq=False)
class Plan:
    root: PlanNode
    nodes: list[PlanNode]
    planning_time: float | None = None
    execution_time: float | None = None
    jit: dict[str, Any] | None = None
    settings: dict[str, str] | None = None
    triggers: list[dict[str, Any]] = field(default_factory=list)
    query: str | None = None  # "Query Text" when auto_explain or VERBOSE gave it

    @property
    def analyzed(self) -> bool:
        return self.root.analyzed

    @property
    def has_buffers(self) -> bool:
        return any("Shared Hit Blocks" in node.raw for node in self.nodes)

    @property
    def total_cost(self) -> float:
        return self.root.total_cost

    @property
    def total_time(self) -> float | None:
        """Execution time if known, else the root's inclusive time."""
        if self.execution_time is not None:
            return self.execution_time
        return self.root.inclusive_time


def parse_plan(data: str | bytes | list | dict, origin: str = "plan") -> Plan:
    """A Plan from EXPLAIN (FORMAT JSON) output; every problem is one InputError naming ``origin``."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        data = _decode(data, origin)
    if isinstance(data, list):
        if not data:
            raise InputError(f"{origin}: the EXPLAIN output is an empty list")
        if len(data) > 1:
            # several statements' plans (EXPLAIN of a multi-statement string is refused by PG; be strict)
            raise InputError(f"{origin}: holds {len(data)} plans; give one EXPLAIN output per file")
        data = data[0]
    if not isinstance(data, dict) or not isinstance(data.get("Plan"), dict):
        raise InputError(f"{origin}: not EXPLAIN (FORMAT JSON) output (no \"Plan\" object)", hint=EXPLAIN_HINT)
    nodes: list[PlanNode] = []
    root = _build(data["Plan"], None, 0, nodes, origin)
    plan = Plan(
        root=root,
        nodes=nodes,
        planning_time=_number(data.get("Planning Time")),
        execution_time=_number(data.get("Execution Time")),
        jit=data.get("JIT") if isinstance(data.get("JIT"), dict) else None,
        settings=data.get("Settings") if isinstance(data.get("Settings"), dict) else None,
        triggers=[t for t in data.get("Triggers") or () if isinstance(t, dict)],
        query=data.get("Query Text") if isinstance(data.get("Query Text"), str) else None,
    )
    _derive(plan)
    return plan


def _decode(text: str, origin: str) -> Any:
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{origin}: empty input; expected EXPLAIN (FORMAT JSON) output", hint=EXPLAIN_HINT)
    if stripped[0] not in "[{":
        raise InputError(
            f"{origin}: this looks like text-format EXPLAIN output; queryreview needs FORMAT JSON",
            hint="run it again as: " + EXPLAIN_HINT + " (psql: add -XAt to get the bare JSON)",
        )
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as error:
        truncated = error.pos >= len(stripped.rstrip()) - 1
        what = "truncated" if truncated else "malformed"
        raise InputError(f"{origin}: {what} EXPLAIN JSON (line {error.lineno}, column {error.colno}: {error.msg})",
                         hint="save the complete output of " + EXPLAIN_HINT) from None
    except RecursionError:
        raise InputError(f"{origin}: EXPLAIN JSON nested too deeply to read") from None


def _build(raw: Any, parent: PlanNode | None, depth: int, nodes: list[PlanNode], origin: str) -> PlanNode:
    if not isinstance(raw, dict) or not isinstance(raw.get("Node Type"), str):
        raise InputError(f"{origin}: malformed plan node at depth {depth} (no \"Node Type\")", hint=EXPLAIN_HINT)
    # iterative over children would be needed only for absurd depths; plans nest as deep as the query
    if depth > 5000:
        raise InputError(f"{origin}: plan nested too deeply ({depth} levels)")
    own = {key: value for key, value in raw.items() if key != "Plans"}
    node = PlanNode(id=len(nodes) + 1, node_type=raw["Node Type"], raw=own, parent=parent, depth=depth)
    nodes.append(node)
    children = raw.get("Plans") or []
    if not isinstance(children, list):
        raise InputError(f"{origin}: malformed plan: \"Plans\" of node {node.id} is not a list")
    node.children = [_build(child, node, depth + 1, nodes, origin) for child in children]
    return node


def _derive(plan: Plan) -> None:
    total_time = plan.total_time
    total_cost = plan.total_cost or 0.0
    for node in plan.nodes:
        children_cost = sum(child.total_cost for child in node.children if not _is_subplan(child))
        node.exclusive_cost = max(0.0, node.total_cost - children_cost)
        inclusive = node.inclusive_time
        if inclusive is not None:
            children_time = sum(child.inclusive_time or 0.0 for child in node.children)
            node.exclusive_time = max(0.0, inclusive - children_time)
        if total_time and node.exclusive_time is not None:
            node.share = min(1.0, node.exclusive_time / total_time)
        elif total_cost:
            node.share = min(1.0, node.exclusive_cost / total_cost)


def _is_subplan(node: PlanNode) -> bool:
    return node.parent_relationship in ("InitPlan", "SubPlan")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None
