"""Plan tree from EXPLAIN (FORMAT JSON), with or without ANALYZE, BUFFERS, SETTINGS, WAL.

    plan = parse_plan(text)            # str, bytes, or the decoded JSON
    for node in plan.nodes:            # pre-order; node.id is the position (1-based)
        node.node_type, node.relation, node.exclusive_time, node.estimate_factor

Derived figures per node: total rows over all loops, inclusive/exclusive (self) time and
cost, the estimate error factor and the share of the plan's total time (or cost).

Input may be the bare JSON, psql output around it (``QUERY PLAN`` header, ``+`` line
continuations, ``(1 row)`` footer), or an auto_explain log entry (``duration: … plan:`` then
the JSON object with ``Query Text``). Anything else is one InputError saying what to run.

How time is attributed (EXPLAIN reports inclusive time per loop):

- Below a Gather / Gather Merge, loops are spread over the leader and the launched workers
  running at the same time: wall time is per-loop time x loops / processes.
- A SubPlan runs inside its parent's expressions: the parent's time includes it.
- An InitPlan runs where its value is first needed: its time is taken off the node whose
  expressions reference it (the owner when none does, or when the owner is a Gather, which
  evaluates it before starting the workers).
- A CTE runs as its CTE Scans pull rows: its time is taken off the CTE Scan that did the
  work (the one with the most time, then the next while a sizeable part remains).
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Iterator

from queryreview.errors import InputError

EXPLAIN_HINT = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) <query>   -- or EXPLAIN (FORMAT JSON) without running it"
MAX_DEPTH = 2000  # plan levels; JSON nests two levels per plan level
_JSON_RECURSION = 2 * MAX_DEPTH + 200
_LOG_PREFIX_MAX = 4096  # where an auto_explain "duration: … plan:" prefix may be
_CTE_NOISE = 0.10  # a CTE remainder under this share of its time is timing noise, not another scan's work
_PARALLEL_TOPS = ("Gather", "Gather Merge")
_AGGREGATE_NAMES = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}
_REPEATED_ONCE = ("Materialize", "Memoize")  # a nested loop re-reads these from memory, not re-running below
_READS_ALL = frozenset(("Sort", "Hash", "SetOp", "Recursive Union"))  # consume all input first
_ROWS_FOOTER = re.compile(r"^\(\d+ rows?\)$")
_AUTO_EXPLAIN = re.compile(r"duration: ([\d.]+) ms\s+plan:\s*", re.IGNORECASE)
_TEXT_PLAN = re.compile(r"\(cost=[\d.]+\.\.[\d.]+ rows=\d+|^\s*->\s+\w|\(actual (?:time|rows)=", re.MULTILINE)
# Figures the analysis computes with: a hand-edited plan with text or null there is refused, not a crash.
_NUMBERS = frozenset(("Startup Cost", "Total Cost", "Plan Rows", "Plan Width", "Actual Startup Time",
                      "Actual Total Time", "Actual Rows", "Actual Loops", "Rows Removed by Filter",
                      "Rows Removed by Index Recheck", "Rows Removed by Join Filter", "Workers Planned",
                      "Workers Launched", "Hash Batches", "Original Hash Batches", "Hash Buckets",
                      "Peak Memory Usage", "Sort Space Used", "HashAgg Batches", "Disk Usage", "Heap Fetches",
                      "Shared Hit Blocks", "Shared Read Blocks", "Temp Read Blocks", "Temp Written Blocks"))
_OLD_INITPLAN = re.compile(r"\(returns ((?:\$\d+,?)+)\)")
_NOT_EXPRESSIONS = frozenset(("Node Type", "Subplan Name", "Parent Relationship", "Relation Name", "Schema",
                              "Alias", "Index Name", "CTE Name", "Function Name", "Strategy", "Join Type",
                              "Sort Method", "Partial Mode", "Operation", "Scan Direction"))


@dataclass(eq=False)
class PlanNode:
    id: int
    node_type: str
    raw: dict[str, Any]  # the node's own keys, without "Plans"
    children: list[PlanNode] = field(default_factory=list)
    parent: PlanNode | None = field(default=None, repr=False)
    depth: int = 0
    exclusive_time: float | None = None  # ms (wall clock) over all loops, None without ANALYZE timing
    exclusive_cost: float = 0.0  # planner cost of this node alone, over its estimated executions
    share: float = 0.0  # of the plan's total time (ANALYZE) or total cost
    processes: int = 1  # leader + workers sharing this node's loops (below a Gather), for wall time
    estimated_loops: float = 1.0  # how often the planner expected this node to run (nested loop inner sides…)

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
    def alias(self) -> str | None:
        """The name expressions use for this node's relation (the alias, else the table)."""
        return self.raw.get("Alias") or self.raw.get("Relation Name")

    @property
    def index_name(self) -> str | None:
        return self.raw.get("Index Name")

    @property
    def parent_relationship(self) -> str | None:
        return self.raw.get("Parent Relationship")

    @property
    def subplan_name(self) -> str | None:
        """``InitPlan 1``, ``SubPlan 2``, ``CTE recent`` for the roots of those subplans."""
        return self.raw.get("Subplan Name")

    @property
    def is_subplan(self) -> bool:
        """The root of an InitPlan, SubPlan or CTE (not part of the parent's row flow)."""
        return self.parent_relationship in ("InitPlan", "SubPlan")

    @property
    def cte_name(self) -> str | None:
        """For a CTE's root: the CTE's name (``CTE name`` subplans)."""
        name = self.subplan_name
        return name[4:] if name and name.startswith("CTE ") else None

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
    def rows_removed_by_filter(self) -> float | None:
        """Rows the Filter discarded, over all loops (EXPLAIN shows a per-loop average)."""
        value = self.raw.get("Rows Removed by Filter")
        return None if value is None else float(value) * self.loops

    @property
    def inclusive_time(self) -> float | None:
        """Milliseconds (wall clock) spent in this node and below, over all loops.

        Below a Gather, loops run in several processes at once: the per-loop time x loops is
        divided by the processes that shared them.
        """
        value = self.raw.get("Actual Total Time")
        if value is None:
            return None
        loops = self.loops
        return float(value) * loops / max(1, min(loops, self.processes))

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

    @property
    def flow_parent(self) -> PlanNode | None:
        """The node consuming this one's rows: None for the root and for subplan roots."""
        return None if self.is_subplan else self.parent

    @property
    def may_stop_early(self) -> bool:
        """Whether a consumer may have stopped reading this node before its end, so fewer actual
        rows than estimated is expected: below a Limit, on the inner side of a semi or anti join,
        below a Merge Join, or inside a subplan (EXISTS stops at the first row) — unless a node
        that reads all of its input first (Sort, Hash, hashed Aggregate) stands in between."""
        node = self
        while True:
            parent = node.parent
            if parent is None:
                return False
            if node.is_subplan:
                return node.parent_relationship == "SubPlan" or node.cte_name is None
            if parent.node_type == "Limit" or parent.node_type == "Merge Join":
                return True
            if parent.get("Join Type") in ("Semi", "Anti") and node.parent_relationship == "Inner":
                return True
            if parent.node_type in _READS_ALL or parent.get("Strategy") in ("Hashed", "Plain", "Mixed"):
                return False
            node = parent

    def label(self) -> str:
        """The node as text-format EXPLAIN names it: ``Parallel Seq Scan on orders o``,
        ``Index Scan using orders_pkey on orders``, ``Hash Left Join``, ``HashAggregate``."""
        text = self.display_type
        if self.index_name:
            text += f" {'on' if self.node_type == 'Bitmap Index Scan' else 'using'} {self.index_name}"
        if self.relation:
            text += f" on {self.relation}"
            alias = self.raw.get("Alias")
            if alias and alias != self.raw.get("Relation Name"):
                text += f" {alias}"
        elif self.raw.get("CTE Name"):
            text += f" on {self.raw['CTE Name']}"
        elif self.raw.get("Function Name"):
            text += f" on {self.raw['Function Name']}"
        return text

    @property
    def display_type(self) -> str:
        """The node type as text-format EXPLAIN shows it (strategy, join type, parallel, partial)."""
        text = self.node_type
        strategy = self.raw.get("Strategy")
        if text == "Aggregate":
            text = _AGGREGATE_NAMES.get(strategy, text)
        elif text == "SetOp" and strategy == "Hashed":
            text = "HashSetOp"
        join = self.raw.get("Join Type")
        if join and join != "Inner" and text in ("Nested Loop", "Hash Join", "Merge Join"):
            text = text.replace(" Join", "") + f" {join} Join"
        partial = self.raw.get("Partial Mode")
        if partial and partial != "Simple":
            text = f"{partial} {text}"
        if self.raw.get("Parallel Aware"):
            text = f"Parallel {text}"
        return text

    def walk(self) -> Iterator[PlanNode]:
        """This node and everything below it, in pre-order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def expression_text(self) -> str:
        """All expression values of this node (Filter, Index Cond, Output, Sort Key…) joined, for searching."""
        parts: list[str] = []
        for key, value in self.raw.items():
            if key in _NOT_EXPRESSIONS:
                continue
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, list):
                parts.extend(item for item in value if isinstance(item, str))
        return "\n".join(parts)


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
    def timed(self) -> bool:
        """ANALYZE with timing (not TIMING OFF): exclusive times are known."""
        return self.root.exclusive_time is not None

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

    def setting(self, name: str) -> str | None:
        """A non-default setting the plan was made with (EXPLAIN SETTINGS), else None."""
        return (self.settings or {}).get(name)


def parse_plan(data: str | bytes | list | dict, origin: str = "plan") -> Plan:
    """A Plan from EXPLAIN (FORMAT JSON) output; every problem is one InputError naming ``origin``."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8", errors="replace")
    document = _unwrap(_decode(data, origin) if isinstance(data, str) else data, origin)
    nodes = _build(document["Plan"], origin)
    plan = Plan(
        root=nodes[0],
        nodes=nodes,
        planning_time=_number(document.get("Planning Time")),
        execution_time=_number(document.get("Execution Time")),
        jit=document.get("JIT") if isinstance(document.get("JIT"), dict) else None,
        settings=document.get("Settings") if isinstance(document.get("Settings"), dict) else None,
        triggers=[t for t in document.get("Triggers") or () if isinstance(t, dict)],
        query=document.get("Query Text") if isinstance(document.get("Query Text"), str) else None,
    )
    _derive(plan)
    return plan


# --- reading the input -----------------------------------------------------------------------


def _decode(text: str, origin: str) -> Any:
    text = text.lstrip("\ufeff")
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{origin}: empty input; expected EXPLAIN (FORMAT JSON) output", hint=EXPLAIN_HINT)
    duration = None
    first_line = stripped[:_LOG_PREFIX_MAX].split("\n", 1)[0]
    json_text: str | None = stripped
    if stripped[0] not in ("[", "{") or first_line.rstrip().endswith("+"):  # not bare JSON: unwrap it
        json_text = _from_psql(stripped)
        if json_text is None:
            found = _AUTO_EXPLAIN.search(stripped, 0, _LOG_PREFIX_MAX)
            if found and stripped[found.end():found.end() + 1] in ("{", "["):
                json_text, duration = stripped[found.end():], float(found.group(1))
            else:
                json_text = stripped
    if json_text[:1] not in ("[", "{", '"'):
        raise _not_json(json_text, origin)
    value = _loads(json_text, origin, trailing_ok=duration is not None)
    if duration is not None and isinstance(value, dict) and "Execution Time" not in value:
        value["Execution Time"] = duration  # auto_explain logs the duration instead
    return value


def _from_psql(text: str) -> str | None:
    """The JSON inside psql output: header, dashes, ``(1 row)`` footer and ``+`` continuations removed."""
    lines = text.splitlines()
    aligned = False
    if lines and lines[0].strip() == "QUERY PLAN":
        lines = lines[1:]
        if lines and set(lines[0].strip()) == {"-"}:
            lines, aligned = lines[1:], True
    elif not (len(lines) > 1 and lines[0].rstrip().endswith("+") and lines[0].lstrip()[:1] in ("[", "{")):
        return None  # not psql output (aligned output without the header: tuples only, -t)
    while lines and (not lines[-1].strip() or _ROWS_FOOTER.match(lines[-1].strip())):
        lines.pop()
    if aligned or (lines and lines[0].rstrip().endswith("+")):
        lines = [line[1:] if line.startswith(" ") else line for line in lines]
        lines = [line.rstrip()[:-1] if line.rstrip().endswith("+") else line for line in lines]
    return "\n".join(lines).strip()


def _not_json(text: str, origin: str) -> InputError:
    if _TEXT_PLAN.search(text) or re.match(r"[A-Z][A-Za-z ]+(?: on \S+)?\s+\(", text):
        options = "ANALYZE, BUFFERS, FORMAT JSON" if "actual" in text else "FORMAT JSON"
        return InputError(
            f"{origin}: this looks like text-format EXPLAIN output; queryreview needs FORMAT JSON",
            hint=f"run it again as EXPLAIN ({options}) <query>, e.g. "
                 f"psql -XAtc \"EXPLAIN ({options}) SELECT …\" > plan.json")
    if text.startswith("<"):
        return InputError(f"{origin}: this looks like EXPLAIN (FORMAT XML) output; queryreview needs FORMAT JSON",
                          hint="run it again as: " + EXPLAIN_HINT)
    if text.startswith("- Plan") or text.startswith("Plan:"):
        return InputError(f"{origin}: this looks like EXPLAIN (FORMAT YAML) output; queryreview needs FORMAT JSON",
                          hint="run it again as: " + EXPLAIN_HINT)
    return InputError(f"{origin}: not EXPLAIN (FORMAT JSON) output (it does not start with '[' or '{{')",
                      hint=EXPLAIN_HINT)


def _loads(text: str, origin: str, trailing_ok: bool) -> Any:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _JSON_RECURSION))  # the C decoder counts JSON nesting against it
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as error:
        # cut short: the error is at the very end, or a string never closes (strings hold no newlines)
        truncated = error.pos >= len(text.rstrip()) - 1 or error.msg.startswith("Unterminated string")
        what = "truncated" if truncated else "malformed"
        raise InputError(f"{origin}: {what} EXPLAIN JSON (line {error.lineno}, column {error.colno}: {error.msg})",
                         hint="save the complete output of " + EXPLAIN_HINT) from None
    except RecursionError:
        raise InputError(f"{origin}: EXPLAIN JSON nested too deeply to read (over {MAX_DEPTH} plan levels)") from None
    finally:
        sys.setrecursionlimit(limit)
    rest = text[end:].strip()
    if rest:
        if '"Plan"' in rest:
            raise InputError(f"{origin}: holds several plans; give one EXPLAIN output per file")
        if not trailing_ok:
            line = text.count("\n", 0, end) + 1
            raise InputError(f"{origin}: malformed EXPLAIN JSON (unexpected text after the JSON on line {line})",
                             hint="save the complete output of " + EXPLAIN_HINT)
    return value


def _unwrap(data: Any, origin: str) -> dict[str, Any]:
    """The one ``{"Plan": …}`` object in what was read (lists of one, GUI exports, jsonlog entries)."""
    for _ in range(5):
        if isinstance(data, list):
            if not data:
                raise InputError(f"{origin}: the EXPLAIN output is an empty list", hint=EXPLAIN_HINT)
            if len(data) > 1:
                # several statements' plans (EXPLAIN of a multi-statement string is refused by PG; be strict)
                raise InputError(f"{origin}: holds {len(data)} plans; give one EXPLAIN output per file")
            data = data[0]
        elif isinstance(data, str):  # JSON stored as a JSON string (CSV/GUI exports)
            data = _decode(data, origin)
        elif isinstance(data, dict) and "Plan" not in data:
            if "QUERY PLAN" in data:  # a result row exported by a GUI client
                data = data["QUERY PLAN"]
            elif isinstance(data.get("message"), str) and _AUTO_EXPLAIN.search(data["message"]):  # jsonlog
                data = _decode(data["message"], origin)
            else:
                break
        else:
            break
    if not isinstance(data, dict) or not isinstance(data.get("Plan"), dict):
        raise InputError(f"{origin}: not EXPLAIN (FORMAT JSON) output (no \"Plan\" object)", hint=EXPLAIN_HINT)
    return data


def _build(raw_root: Any, origin: str) -> list[PlanNode]:
    """Nodes in pre-order, iteratively (plans can nest deeper than Python's recursion limit)."""
    nodes: list[PlanNode] = []
    stack: list[tuple[Any, PlanNode | None, int]] = [(raw_root, None, 0)]
    while stack:
        raw, parent, depth = stack.pop()
        if not isinstance(raw, dict) or not isinstance(raw.get("Node Type"), str):
            raise InputError(f"{origin}: malformed plan node at depth {depth} (no \"Node Type\")", hint=EXPLAIN_HINT)
        if depth > MAX_DEPTH:
            raise InputError(f"{origin}: plan nested too deeply ({depth} levels)")
        own = dict(raw)
        children = own.pop("Plans", None) or []
        for key in _NUMBERS:
            value = own.get(key, 0)
            kind = type(value)
            if kind is not int and (kind is not float or not 0 <= value < math.inf) or kind is int and value < 0:
                raise InputError(f"{origin}: malformed plan: {key!r} of node {len(nodes) + 1} is not a number "
                                 f"({value!r})", hint=EXPLAIN_HINT)
        node = PlanNode(id=len(nodes) + 1, node_type=raw["Node Type"], raw=own, parent=parent, depth=depth)
        nodes.append(node)
        if parent is not None:
            parent.children.append(node)
        if not isinstance(children, list):
            raise InputError(f"{origin}: malformed plan: \"Plans\" of node {node.id} is not a list")
        stack.extend((child, node, depth + 1) for child in reversed(children))
    return nodes


# --- derived figures ---------------------------------------------------------------------------


def _derive(plan: Plan) -> None:
    _count_processes(plan)
    _estimate_loops(plan)
    for node in plan.nodes:
        _exclusive_cost(node)
        inclusive = node.inclusive_time
        if inclusive is not None:
            flow_children = (child for child in node.children if child.parent_relationship != "InitPlan")
            node.exclusive_time = inclusive - sum(child.inclusive_time or 0.0 for child in flow_children)
    for node in plan.nodes:
        for child in node.children:
            if child.parent_relationship == "InitPlan" and (child.inclusive_time or 0.0) > 0:
                _charge_initplan(node, child)
    total_time = plan.total_time
    total_cost = plan.total_cost or 0.0
    for node in plan.nodes:
        if node.exclusive_time is not None:
            node.exclusive_time = max(0.0, node.exclusive_time)
        if total_time and node.exclusive_time is not None:
            node.share = min(1.0, node.exclusive_time / total_time)
        elif total_cost:
            node.share = min(1.0, node.exclusive_cost / total_cost)


def _count_processes(plan: Plan) -> None:
    """Processes sharing the loops of each node below a Gather (leader + launched workers)."""
    leader = 0 if (plan.setting("parallel_leader_participation") or "on") == "off" else 1
    for node in plan.nodes:
        if node.node_type in _PARALLEL_TOPS and node.analyzed:
            launched = int(node.get("Workers Launched", 0) or 0)
            processes = max(1, launched + leader)
            # the Gather's own InitPlans run in the leader before the workers start
            for child in node.children:
                if child.parent_relationship != "InitPlan":
                    for below in child.walk():
                        below.processes = processes


def _estimate_loops(plan: Plan) -> None:
    """Planner-side executions per node: nested loop inner sides and SubPlans run once per outer row."""
    for node in plan.nodes:  # pre-order: a parent is done before its children
        flow = [child for child in node.children if not child.is_subplan]
        for child in node.children:
            loops = node.estimated_loops
            if child.parent_relationship == "SubPlan":
                loops *= max(node.plan_rows, 1.0)
            elif node.node_type == "Nested Loop" and child in flow[1:] and child.node_type not in _REPEATED_ONCE:
                loops *= max(flow[0].plan_rows, 1.0)
            child.estimated_loops = loops


def _exclusive_cost(node: PlanNode) -> None:
    below = sum(child.total_cost * child.estimated_loops for child in node.children)
    node.exclusive_cost = max(0.0, node.total_cost * node.estimated_loops - below)


def _charge_initplan(owner: PlanNode, initplan: PlanNode) -> None:
    """Take an InitPlan's (or CTE's) time off the node(s) whose time includes it."""
    spent = initplan.inclusive_time or 0.0
    cte = initplan.cte_name
    if cte is not None:
        scans = [n for n in _scope(owner, initplan) if n.node_type == "CTE Scan" and n.get("CTE Name") == cte
                 and (n.inclusive_time or 0.0) > 0]
        remaining = spent
        for scan in sorted(scans, key=lambda n: n.inclusive_time or 0.0, reverse=True):
            if remaining <= _CTE_NOISE * spent:
                break
            taken = min(remaining, max(0.0, scan.exclusive_time or 0.0))
            scan.exclusive_time = (scan.exclusive_time or 0.0) - taken
            remaining -= taken
        return
    target = owner
    if owner.node_type not in _PARALLEL_TOPS:
        patterns = _initplan_patterns(initplan)
        for candidate in _scope(owner, initplan, into_parallel=False):
            text = candidate.expression_text()
            if any(pattern.search(text) for pattern in patterns):
                target = candidate
                break
    target.exclusive_time = (target.exclusive_time or 0.0) - spent


def _scope(owner: PlanNode, skip: PlanNode, into_parallel: bool = True) -> Iterator[PlanNode]:
    """The owner's subtree in pre-order, without ``skip``'s subtree (nor below a Gather, if asked)."""
    stack = [owner]
    while stack:
        node = stack.pop()
        yield node
        if node is not owner and not into_parallel and node.node_type in _PARALLEL_TOPS:
            continue
        stack.extend(child for child in reversed(node.children) if child is not skip)


def _initplan_patterns(initplan: PlanNode) -> list[re.Pattern[str]]:
    """How expressions reference an InitPlan: ``(InitPlan 1).col1`` (PG 17+) or ``$0`` (before)."""
    name = initplan.subplan_name or ""
    old = _OLD_INITPLAN.search(name)
    if old:
        return [re.compile(re.escape(param) + r"(?!\d)") for param in old.group(1).split(",") if param]
    base = name.split(" (", 1)[0]
    return [re.compile(re.escape(f"({base})") + r"\.col\d")] if base else []


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
