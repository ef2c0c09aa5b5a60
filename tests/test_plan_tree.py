"""Plan parsing and per-node figures on real captured plans (tests/fixtures/plans/plan-tree.yaml, psql/).

Exclusive (self) time is checked where EXPLAIN's inclusive times overlap: parallel workers,
InitPlans (charged where their value is first used), SubPlans, CTEs (charged to the scan
that ran them), Append and nested loops. Re-capture the fixtures (numbers change, the
assertions hold): ``python tests/test_plan_tree.py --recapture``.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from queryreview.errors import InputError
from queryreview.plan.exprs import (columns_in, conditions, index_keys, parse_expression, quote_ident, sort_keys,
                                    tables_and_columns)
from queryreview.plan.summary import node_table, offenders, plan_document, render_tree
from queryreview.plan.tree import Plan, PlanNode, parse_plan

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
PSQL = FIXTURES / "psql"


@lru_cache(maxsize=None)
def _cases() -> dict:
    return yaml.safe_load((FIXTURES / "plan-tree.yaml").read_text(encoding="utf-8"))


def captured(name: str) -> Plan:
    return parse_plan(_cases()[name]["plan"], name)


def psql_output(name: str) -> str:
    return (PSQL / name).read_text(encoding="utf-8")


def node(plan: Plan, node_type: str, nth: int = 0, **raw) -> PlanNode:
    found = [n for n in plan.nodes if n.node_type == node_type and all(n.get(k) == v for k, v in raw.items())]
    return found[nth]


def flow_time(parent: PlanNode) -> float:
    return sum(child.inclusive_time or 0.0 for child in parent.children if child.parent_relationship != "InitPlan")


def close(a: float, b: float, tolerance: float = 1e-6) -> bool:
    return abs(a - b) <= tolerance


# --- structure -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(_cases()))
def test_every_capture_parses_into_a_consistent_tree(name: str) -> None:
    plan = captured(name)
    assert [n.id for n in plan.nodes] == list(range(1, len(plan.nodes) + 1))
    assert plan.nodes[0] is plan.root and plan.root.parent is None
    assert list(plan.root.walk()) == plan.nodes  # pre-order
    for n in plan.nodes:
        assert "Plans" not in n.raw
        for child in n.children:
            assert child.parent is n and child.depth == n.depth + 1
        if n.exclusive_time is not None:
            assert n.exclusive_time >= 0
        assert 0 <= n.share <= 1
    assert plan.analyzed == _cases()[name]["analyze"]


@pytest.mark.parametrize("name", [n for n, case in _cases().items() if case["analyze"]])
def test_self_times_add_up_to_the_whole(name: str) -> None:
    """Overlaps counted once: the self times sum to the root's time (not more, not clamped to less)."""
    plan = captured(name)
    total = sum(n.exclusive_time for n in plan.nodes)
    root = plan.root.inclusive_time
    assert abs(total - root) <= 0.05 * root + 0.05, (total, root)


# --- parallel ------------------------------------------------------------------------------------


def test_parallel_workers_share_loops_in_wall_time() -> None:
    plan = captured("parallel")
    gather = node(plan, "Gather Merge")
    assert gather.get("Workers Launched") == 2
    scan = node(plan, "Seq Scan")
    assert scan.loops == 3 and scan.processes == 3 and gather.processes == 1
    # three processes ran their loop at the same time: wall time is one loop's time, not three
    assert close(scan.inclusive_time, scan.get("Actual Total Time"))
    sort = node(plan, "Sort")
    assert close(gather.exclusive_time, gather.inclusive_time - sort.inclusive_time)
    assert gather.exclusive_time > 0  # not clamped: the naive sum of worker loops exceeds the Gather
    assert sort.get("Actual Total Time") * sort.loops > gather.inclusive_time
    assert scan.label() == "Parallel Seq Scan on orders"
    assert plan.root.label() == "Finalize GroupAggregate"


def test_parallel_without_launched_workers_runs_in_the_leader() -> None:
    plan = captured("parallel_no_workers")
    assert node(plan, "Gather Merge").get("Workers Launched") == 0
    scan = node(plan, "Seq Scan")
    assert scan.loops == 1 and scan.processes == 1
    assert close(scan.inclusive_time, scan.get("Actual Total Time"))


# --- InitPlan / SubPlan / CTE --------------------------------------------------------------------


def test_initplan_is_charged_to_the_node_using_its_value() -> None:
    plan = captured("initplan")
    owner = plan.root
    initplan = next(c for c in owner.children if c.parent_relationship == "InitPlan")
    assert "(InitPlan 1).col1" in owner.get("Filter")
    assert close(owner.exclusive_time, owner.inclusive_time - initplan.inclusive_time - flow_time(owner))
    assert plan.root.total_cost > node(plan, "Bitmap Index Scan").total_cost + initplan.total_cost
    assert close(owner.exclusive_cost, owner.total_cost - initplan.total_cost - node(plan, "Bitmap Index Scan").total_cost)


def test_initplan_used_below_its_owner_is_charged_there() -> None:
    plan = captured("initplan_in_child")
    join = plan.root
    initplan = next(c for c in join.children if c.parent_relationship == "InitPlan")
    user = next(n for n in plan.nodes if "(InitPlan 1)" in (n.get("Filter") or ""))
    assert user is not join and user.parent is join
    assert close(user.exclusive_time, user.inclusive_time - initplan.inclusive_time)
    # the join's own time is its time minus its inputs; the InitPlan is inside one of them already
    assert close(join.exclusive_time, join.inclusive_time - flow_time(join))
    assert join.inclusive_time - flow_time(join) - initplan.inclusive_time < 0  # the double count we avoid


def test_initplan_of_a_gather_is_evaluated_by_the_gather() -> None:
    plan = captured("initplan_gather")
    gather = plan.root
    assert gather.node_type == "Gather"
    initplan = next(c for c in gather.children if c.parent_relationship == "InitPlan")
    assert all(n.processes == 1 for n in [initplan]) and node(plan, "Gather", 1).processes == 1
    assert close(gather.exclusive_time, gather.inclusive_time - initplan.inclusive_time - flow_time(gather))
    user = next(n for n in plan.nodes if "(InitPlan 1)" in (n.get("Filter") or ""))
    assert close(user.exclusive_time, user.inclusive_time)  # the workers got the value, not the work


def test_old_style_initplan_parameters_pg15() -> None:
    plan = parse_plan(psql_output("pg15-initplan_in_child.json"))
    initplan = next(n for n in plan.nodes if n.parent_relationship == "InitPlan")
    assert initplan.subplan_name == "InitPlan 1 (returns $0)"
    user = next(n for n in plan.nodes if "$0" in (n.get("Filter") or ""))
    assert close(user.exclusive_time, user.inclusive_time - initplan.inclusive_time)
    assert close(plan.root.exclusive_time, plan.root.inclusive_time - flow_time(plan.root))


def test_subplan_runs_inside_its_parent_once_per_row() -> None:
    plan = captured("subplan")
    parent = plan.root
    subplan = next(c for c in parent.children if c.parent_relationship == "SubPlan")
    assert subplan.loops == 500
    assert close(subplan.inclusive_time, subplan.get("Actual Total Time") * 500)
    assert close(parent.exclusive_time, parent.inclusive_time - subplan.inclusive_time)
    assert subplan.estimated_loops == parent.plan_rows
    assert parent.exclusive_cost < parent.total_cost / 10  # the subplan's calls are not the scan's cost


@pytest.mark.parametrize("name", ["cte", "cte_nested_loop"])
def test_cte_time_is_charged_to_the_scan_that_ran_it(name: str) -> None:
    plan = captured(name)
    cte = next(n for n in plan.nodes if n.cte_name)
    owner = cte.parent
    scans = sorted((n for n in plan.nodes if n.node_type == "CTE Scan"), key=lambda n: n.inclusive_time, reverse=True)
    first = scans[0]
    assert first.inclusive_time >= 0.9 * cte.inclusive_time  # the scan that pulled the rows includes the CTE
    assert close(first.exclusive_time, max(0.0, first.inclusive_time - cte.inclusive_time))
    assert close(owner.exclusive_time, max(0.0, owner.inclusive_time - flow_time(owner)))
    for other in scans[1:]:  # a second scan reads the stored rows: its own time
        assert other.exclusive_time > 0
    assert plan.root.exclusive_cost <= plan.root.total_cost


def test_pg15_cte_in_a_merge_join() -> None:
    plan = parse_plan(psql_output("pg15-cte.json"))
    cte = next(n for n in plan.nodes if n.cte_name == "big")
    assert cte.label() == "HashAggregate"
    total = sum(n.exclusive_time for n in plan.nodes)
    assert abs(total - plan.root.inclusive_time) <= 0.05 * plan.root.inclusive_time


def test_append_of_partitions() -> None:
    plan = captured("append")
    append = node(plan, "Append")
    members = [c for c in append.children if c.parent_relationship == "Member"]
    assert len(members) == 3 and {m.relation for m in members} == {"events_2024_01", "events_2024_02", "events_2024_03"}
    assert close(append.exclusive_time, append.inclusive_time - sum(m.inclusive_time for m in members))


def test_nested_loop_inner_side_runs_per_outer_row() -> None:
    plan = captured("nested_loop")
    loop = plan.root
    outer, inner = loop.children
    assert inner.loops == outer.actual_rows
    assert close(inner.inclusive_time, inner.get("Actual Total Time") * inner.loops)
    assert inner.estimated_loops == outer.plan_rows
    assert loop.exclusive_cost < loop.total_cost / 2  # the inner scans' cost is theirs


def test_plan_without_analyze_shares_costs() -> None:
    plan = captured("estimates")
    assert not plan.analyzed and not plan.timed and plan.total_time is None
    assert all(n.exclusive_time is None and n.estimate_factor is None and not n.never_executed for n in plan.nodes)
    assert 0.9 <= sum(n.share for n in plan.nodes) <= 1.05
    assert plan.nodes[2].estimated_loops == plan.nodes[1].plan_rows


def test_analyze_with_timing_off() -> None:
    plan = parse_plan(psql_output("timing-off.txt"))
    assert plan.analyzed and not plan.timed
    assert all(n.exclusive_time is None for n in plan.nodes)
    assert plan.root.actual_rows == 5 and 0.9 <= sum(n.share for n in plan.nodes) <= 1.05


def test_limit_makes_fewer_rows_expected() -> None:
    plan = captured("limit")
    assert plan.root.node_type == "Limit"
    below = plan.nodes[1]
    assert below.may_stop_early and below.actual_rows < below.plan_rows
    hashed = [n for n in plan.nodes if n.parent is not None and n.parent.node_type == "Hash"]
    assert all(not n.may_stop_early for n in hashed)  # a Hash reads all of its input first


def test_verbose_wal_settings_plan() -> None:
    plan = parse_plan(psql_output("verbose-wal.txt"))
    assert plan.settings is not None and plan.has_buffers
    scans = [n for n in plan.nodes if n.relation]
    assert scans and all(n.relation.startswith("public.") for n in scans)
    assert "WAL Records" in plan.root.raw


# --- input formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["aligned.txt", "unaligned.txt", "tuples-aligned.txt", "tuples-unaligned.txt",
                                  "auto_explain-log.txt", "auto_explain-notice.txt"])
def test_psql_and_auto_explain_output_is_accepted(name: str) -> None:
    plan = parse_plan(psql_output(name), name)
    assert [n.node_type for n in plan.nodes][:3] == ["Limit", "Sort", "Aggregate"]
    assert plan.execution_time is not None and plan.execution_time > 0
    if name.startswith("auto_explain"):
        assert plan.query is not None and "GROUP BY c.name" in plan.query  # auto_explain's Query Text


def test_bytes_with_bom_and_crlf() -> None:
    text = psql_output("unaligned.txt").replace("\n", "\r\n")
    assert len(parse_plan(b"\xef\xbb\xbf" + text.encode()).nodes) == 7


def test_gui_export_and_double_encoded_json() -> None:
    plan = json.loads(psql_output("tuples-unaligned.txt"))
    assert len(parse_plan([{"QUERY PLAN": plan}]).nodes) == 7
    assert len(parse_plan(json.dumps(json.dumps(plan))).nodes) == 7
    jsonlog = {"timestamp": "…", "message": psql_output("auto_explain-notice.txt").split("NOTICE:  ", 1)[1]}
    assert len(parse_plan(json.dumps(jsonlog)).nodes) == 7


@pytest.mark.parametrize(("name", "says"), [
    ("text-format.txt", "text-format EXPLAIN output"),
    ("text-format-At.txt", "text-format EXPLAIN output"),
    ("xml.txt", "FORMAT XML"),
    ("yaml.txt", "FORMAT YAML"),
])
def test_other_formats_are_refused_with_the_command_to_run(name: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_plan(psql_output(name), name)
    assert says in str(caught.value) and caught.value.exit_code == 2
    assert "FORMAT JSON" in caught.value.hint


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty input"),
    ("   \n", "empty input"),
    ('[{"Plan": {"Node Type": "Seq Scan", "Total Cost": 1', "truncated"),
    ('[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "ord', "truncated"),
    ('[{"Plan": {"Node Type": "Seq Scan"}}] trailing', "malformed"),
    ('[{"Plan": {"Node Type": "Seq Scan",, }}]', "malformed"),
    ("[]", "empty list"),
    ('[{"Plan": {"Node Type": "Result"}}, {"Plan": {"Node Type": "Result"}}]', "holds 2 plans"),
    ('{"Plan": {"Node Type": "Result"}} {"Plan": {"Node Type": "Result"}}', "several plans"),
    ('{"plan": 1}', 'no "Plan" object'),
    ('{"Plan": {"Plans": []}}', "no \"Node Type\""),
    ('{"Plan": {"Node Type": "Append", "Plans": {"Node Type": "Result"}}}', "is not a list"),
    ('{"Plan": {"Node Type": "Append", "Plans": [1]}}', "malformed plan node"),
    ("hello", "not EXPLAIN (FORMAT JSON) output"),
])
def test_bad_input_is_one_clear_error(text: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_plan(text, "p.json")
    assert says in str(caught.value) and str(caught.value).startswith("p.json: ")


def test_very_deep_plans_do_not_crash() -> None:
    """Synthetic nesting (no server builds it): deeper than Python's recursion limit, then far too deep."""
    def nested(depth: int) -> str:
        return '{"Plan": ' + '{"Node Type": "Result", "Plans": [' * depth + '{"Node Type": "Result"}' + "]}" * depth + "}"

    assert len(parse_plan(nested(1500)).nodes) == 1501
    with pytest.raises(InputError, match="nested too deeply"):
        parse_plan(nested(50_000))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_plan_or_an_input_error(text: str) -> None:
    try:
        parse_plan(text)
    except InputError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["Plan", "Plans", "Node Type", "Actual Loops", "Actual Total Time",
                                         "Total Cost", "Plan Rows", "Subplan Name", "Parent Relationship", "x"]),
                        inner, max_size=5), max_leaves=20))
def test_any_json_shape_is_a_plan_or_an_input_error(value) -> None:
    try:
        plan = parse_plan(json.dumps(value))
    except InputError:
        return
    except (TypeError, ValueError) as error:  # numbers in the wrong type: still a clean error is required
        pytest.fail(f"{type(error).__name__}: {error}")
    render_tree(plan)


# --- expressions ---------------------------------------------------------------------------------


def test_columns_in_filters_as_explain_prints_them() -> None:
    assert columns_in("((status)::text = 'open'::text)") == ["status"]
    assert columns_in("((o.status = 'open'::text) AND (o.customer_id = c.id))", "o") == ["status", "customer_id"]
    assert tables_and_columns("(o.customer_id = c.id)") == [("o", "customer_id"), ("c", "id")]
    assert columns_in("(amount > (InitPlan 1).col1)") == ["amount"]
    assert columns_in("(NOT (hashed SubPlan 1))") == []
    assert columns_in("(\"Order\" = 1)") == ["Order"]
    assert columns_in("(lower((note)::text) = 'x y'::text)") == ["note"]
    assert columns_in("(created_at > (now() - '1 day'::interval))") == ["created_at"]


def test_unreadable_expressions_fall_back_to_names() -> None:
    assert parse_expression("(alternatives: SubPlan 1 or hashed SubPlan 2)") is not None
    assert columns_in("(alternatives: SubPlan 1 or hashed SubPlan 2)") == []
    assert parse_expression("weird ~~~ \"Col\" + zz.yy ::text 'lit''eral'") is None
    assert columns_in("weird ~~~ \"Col\" + zz.yy ::text 'lit''eral'") == ["weird", "Col", "yy"]
    assert columns_in("(" * 500 + "a" + ")" * 500) == ["a"]  # too deep for the parser: tokenized


def test_conditions_classify_for_btree_design() -> None:
    conds = conditions("((created_at >= '2024-01-01'::timestamp without time zone) AND (status = 'open'::text) "
                       "AND (x <> 3) AND (id = ANY ('{1,2}'::integer[])) AND (name ~~ 'ab%'::text))")
    assert [(c.kind, c.key) for c in conds] == [("range", "created_at"), ("equality", "status"), ("other", None),
                                                 ("in", "id"), ("like-prefix", "name")]
    assert index_keys(conds) == ["status", "id", "created_at"]
    assert index_keys(conds, ranges=2) == ["status", "id", "created_at", "name text_pattern_ops"]
    outer = conditions("(customer_id = c.id)", "o")
    assert [(c.kind, c.key) for c in outer] == [("equality", "customer_id")]
    assert conditions("(lower((email)::text) = 'a'::text)")[0].key == "(lower(email))"
    assert conditions("((data ->> 'k'::text) = '3'::text)")[0].key == "(data ->> 'k')"
    assert conditions("(((amount)::integer % 10) = 3)")[0].key is None
    assert conditions("((a = 1) OR (b = 2))")[0].kind == "or"
    assert conditions("(x ~~ '%ab'::text)")[0].key is None
    assert conditions("(id > (SubPlan 1))")[0].key is None


def test_sort_keys() -> None:
    keys = sort_keys(["o.created_at DESC", "(lower(name))", "c.name NULLS FIRST", "(sum(o.amount))"])
    assert [(k.key, k.table, k.column, k.descending, k.nulls) for k in keys] == [
        ("created_at", "o", "created_at", True, None),
        ("(lower(name))", None, None, False, None),
        ("name", "c", "name", False, "FIRST"),
        (None, "o", None, False, None),
    ]


def test_quote_ident() -> None:
    assert [quote_ident(n) for n in ("status", "Order", "order", "a b", 'q"x')] == [
        "status", '"Order"', '"order"', '"a b"', '"q""x"']


# --- summary -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(_cases()))
def test_summary_tree_fits_100_columns(name: str) -> None:
    plan = captured(name)
    text = render_tree(plan, name, width=100)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert len(text.splitlines()) == len(plan.nodes) + 2 + (1 if offenders(plan) else 0)
    assert "\x1b[" not in text and "\x1b[" in render_tree(plan, name, color=True)


def test_summary_marks_top_offenders_and_misestimates() -> None:
    plan = parse_plan(_cases()["initplan_in_child"]["plan"])
    top = offenders(plan)
    assert top and top == sorted(top, key=lambda n: n.share, reverse=True)
    text = render_tree(plan, "p")
    for n in top:
        assert any(line.startswith(f"* {n.id:>3} ") for line in text.splitlines())
    limit_text = render_tree(captured("limit"), "p")
    assert "!" not in limit_text  # fewer rows under a LIMIT is expected, not a misestimate


def test_summary_of_a_huge_plan_shows_the_significant_nodes() -> None:
    big = {"Plan": {"Node Type": "Append", "Total Cost": 1000.0, "Plans": [
        {"Node Type": "Seq Scan", "Relation Name": f"t{i}", "Total Cost": 500.0 if i == 7 else 0.5}
        for i in range(1000)]}}
    plan = parse_plan(big)
    text = render_tree(plan, "big")
    assert "Seq Scan on t7" in text and "more nodes" in text and len(text.splitlines()) < 70


def test_plan_document_for_json() -> None:
    plan = captured("cte")
    doc = plan_document(plan, "cte.json")
    assert doc["name"] == "cte.json" and doc["share_of"] == "time" and len(doc["nodes"]) == len(plan.nodes)
    assert doc["top_nodes"] == [n.id for n in offenders(plan)]
    row = node_table(plan)[1]
    assert row["subplan"] == "CTE big" and row["parent"] == 1 and row["exclusive_time_ms"] is not None
    json.dumps(doc)


# --- re-capturing the fixtures -------------------------------------------------------------------


def _recapture() -> None:  # pragma: no cover - run by hand against the embedded server
    """Re-capture plan-tree.yaml (scripts/capture_plan.py) and psql/*.txt (psql of the same server)."""
    import hashlib
    import subprocess

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from capture_plan import CACHE, capture

    from queryreview.sources.embedded import EmbeddedServer, bin_dir

    setup = (FIXTURES / "plan-tree.sql").read_text(encoding="utf-8")
    cases = _cases()
    lines = (FIXTURES / "plan-tree.yaml").read_text(encoding="utf-8").split("\n")
    header = [line for line in lines[:10] if line.startswith("#")]
    out = list(header)
    for name, case in cases.items():
        plan = capture(setup, case["query"], case["analyze"], case.get("set", []))
        out.append(f"{name}:")
        out.append(f"  query: {json.dumps(case['query'])}")
        if case.get("set"):
            out.append(f"  set: {json.dumps(case['set'])}")
        out.append(f"  analyze: {'true' if case['analyze'] else 'false'}")
        out.append("  plan: " + json.dumps(plan, separators=(",", ":")))
    (FIXTURES / "plan-tree.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")

    server = EmbeddedServer.start(CACHE)
    dsn = server.dsn("fx_" + hashlib.sha1(setup.encode()).hexdigest()[:12])
    psql = str(bin_dir() / "psql")
    query = ("SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id "
             "WHERE c.region = 'north' GROUP BY c.name ORDER BY 2 DESC LIMIT 5")
    runs = {
        "aligned.txt": ([], "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "),
        "unaligned.txt": (["-A"], "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "),
        "tuples-unaligned.txt": (["-At"], "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "),
        "tuples-aligned.txt": (["-t"], "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "),
        "text-format.txt": ([], "EXPLAIN (ANALYZE, BUFFERS) "),
        "text-format-At.txt": (["-At"], "EXPLAIN (ANALYZE) "),
        "timing-off.txt": (["-At"], "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) "),
        "verbose-wal.txt": (["-At"], "EXPLAIN (ANALYZE, VERBOSE, BUFFERS, WAL, SETTINGS, FORMAT JSON) "),
        "xml.txt": (["-At"], "EXPLAIN (FORMAT XML) "),
        "yaml.txt": (["-At"], "EXPLAIN (FORMAT YAML) "),
    }
    for file_name, (flags, explain) in runs.items():
        result = subprocess.run([psql, "-X", *flags, "-d", dsn, "-c", explain + query], capture_output=True,
                                text=True, check=True)
        (PSQL / file_name).write_text(result.stdout, encoding="utf-8")
    auto = ("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; "
            "SET auto_explain.log_buffers = on; SET auto_explain.log_format = json; ")
    result = subprocess.run([psql, "-X", "-At", "-d", dsn, "-c", auto + "SET auto_explain.log_level = notice; "
                             + query + ";"], capture_output=True, text=True, check=True)
    (PSQL / "auto_explain-notice.txt").write_text(result.stderr, encoding="utf-8")
    log = server.pgdata / "log"
    start = log.stat().st_size
    subprocess.run([psql, "-X", "-At", "-d", dsn, "-c", auto + "SET auto_explain.log_level = log; " + query + ";"],
                   capture_output=True, text=True, check=True)
    (PSQL / "auto_explain-log.txt").write_bytes(log.read_bytes()[start:])
    print("re-captured; the pg15-*.json plans come from a PostgreSQL 15 server (psql -At of the same queries)")


if __name__ == "__main__":  # pragma: no cover
    if "--recapture" in sys.argv:
        _recapture()
