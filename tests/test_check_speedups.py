"""The shortcuts that make ``check`` fast change nothing a user sees.

Fix SQL rendered on first read (Fix.later), the node index built without sqlglot's walk(),
render() with a reused generator and a lighter copy, and the engine unlinking finished
trees: each must give exactly what the plain way gives.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from sqlglot import exp

import queryreview.engine as engine_module
from queryreview.engine import Context, Engine
from queryreview.model import Fix, SourceText
from queryreview.rules.registry import all_rules
from queryreview.sql.parse import statements
from queryreview.sql.predicates import copy_tree, render

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

STATEMENTS = """
SELECT o.id, (SELECT count(*) FROM items i WHERE i.order_id = o.id) AS n FROM orders o
  WHERE lower(o.email) = $1 AND o.created_at::date = $2 OR o.status NOT IN ('a', 'b') ORDER BY o.id LIMIT 10 OFFSET $3;
WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t, generate_series(1, 3) AS g(x);
UPDATE orders SET total = total * 1.1 FROM customers c WHERE c.id = orders.customer_id AND c.tier IS DISTINCT FROM 'gold';
DELETE FROM sessions USING users u WHERE sessions.user_id = u.id AND u.deleted_at < now() - interval '30 days';
INSERT INTO audit (id, payload) VALUES ($1, '{"a": [1, 2]}'::jsonb) ON CONFLICT (id) DO UPDATE SET payload = excluded.payload;
SELECT DISTINCT u.* FROM users u JOIN orders o ON o.user_id::text = u.ref WHERE o.meta ->> 'k' LIKE '%x' FOR UPDATE SKIP LOCKED;
"""


def _trees() -> list[exp.Expression]:
    return [statement.ast for statement in statements(SourceText("t.sql", STATEMENTS)) if statement.ast is not None]


def test_lazy_fix_renders_once_on_first_read_and_equals_the_eager_fix() -> None:
    calls = []
    fix = Fix.later("Use UNION ALL", lambda: calls.append(1) or "SELECT 1 UNION ALL SELECT 2")
    assert fix.pending and calls == []
    assert fix.description == "Use UNION ALL" and calls == []
    assert fix.sql == "SELECT 1 UNION ALL SELECT 2" and fix.sql and calls == [1]
    assert not fix.pending
    eager = Fix("Use UNION ALL", "SELECT 1 UNION ALL SELECT 2")
    assert fix == eager and eager == fix and hash(fix) == hash(eager)
    assert fix.to_dict() == eager.to_dict() and repr(fix) == repr(eager)


def test_lazy_fix_behaves_as_a_frozen_fix() -> None:
    fix = Fix.later("d", lambda: "SELECT 2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fix.sql = "x"  # type: ignore[misc]
    assert dataclasses.asdict(fix) == {"description": "d", "sql": "SELECT 2"}
    assert dataclasses.replace(Fix.later("d", lambda: "SELECT 3"), description="e") == Fix("e", "SELECT 3")
    assert pickle.loads(pickle.dumps(Fix.later("d", lambda: "SELECT 4"))) == Fix("d", "SELECT 4")
    assert not Fix("d", "SELECT 5").pending


def test_a_lazy_fix_whose_rewrite_fails_keeps_its_description() -> None:
    fix = Fix.later("Rewrite it", lambda: 1 / 0)
    assert fix.sql is None and fix.description == "Rewrite it"


def test_render_is_sqlglots_postgres_sql_and_leaves_the_tree_alone() -> None:
    for tree in _trees():
        before = [(node, node.parent, node.arg_key, node.index) for node in tree.walk()]
        for node, *_ in before:
            assert render(node) == node.sql(dialect="postgres")
        assert [(node, node.parent, node.arg_key, node.index) for node, *_ in before] == before
        assert render(tree) == tree.sql(dialect="postgres")


def test_copy_tree_is_the_same_tree_as_sqlglots_copy() -> None:
    for tree in _trees():
        for node in tree.walk():
            ours, theirs = copy_tree(node), node.copy()
            assert ours == theirs and ours is not node
            assert [(type(n), n.arg_key, n.index, n.meta, n.comments) for n in ours.walk()] == [
                (type(n), n.arg_key, n.index, n.meta, n.comments) for n in theirs.walk()
            ]
            assert all(child.parent is parent for parent in ours.walk() for child in parent.iter_expressions())


def test_node_index_keeps_walk_order() -> None:
    for statement in statements(SourceText("t.sql", STATEMENTS)):
        if statement.ast is None:
            continue
        by_type: dict[type, list[exp.Expression]] = {}
        for node in statement.ast.walk():
            by_type.setdefault(type(node), []).append(node)
        for node_type, nodes in by_type.items():
            assert list(statement.nodes(node_type)) == nodes
        several = (exp.Select, exp.Column, exp.Condition)
        expected = [n for nodes in by_type.values() for n in nodes if isinstance(n, several)]
        assert list(statement.nodes(*several)) == expected
        assert list(statement.nodes(*several)) == expected  # the second answer comes from the index


@pytest.mark.parametrize("kept", [0, 1, engine_module.MAX_KEPT_TREES])
def test_findings_do_not_depend_on_when_fixes_are_rendered(monkeypatch, kept: int) -> None:
    """Past MAX_KEPT_TREES statement trees, fixes are rendered at once instead of on demand: same findings."""
    sources = [SourceText(str(path), path.read_text(encoding="utf-8")) for path in sorted(EXAMPLES.rglob("*.sql"))]

    def findings(limit: int) -> tuple[int, list[dict]]:
        monkeypatch.setattr(engine_module, "MAX_KEPT_TREES", limit)
        review = Engine(list(all_rules()), Context()).review(sources)
        pending = sum(1 for finding in review.findings if finding.fix is not None and finding.fix.pending)
        return pending, [finding.to_dict() for finding in review.findings]

    pending, rendered_late = findings(10**9)
    assert pending > 1 and any(finding["fix"] and finding["fix"]["sql"] for finding in rendered_late)
    pending_now, rendered = findings(kept)
    assert rendered == rendered_late
    assert pending_now <= pending if kept else pending_now == 0
