"""Run the selected rules over statements and gather findings into a Review."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Iterable

from queryreview.model import Finding, Hit, Location, Review, Script, SourceText, Statement
from queryreview.rules.registry import INPUTS, Rule
from queryreview.sql.parse import parse_statement, split_statements
from queryreview.sql.positions import node_span
from queryreview.suppress import Suppression, file_ignored, suppressions

STATEMENT_TEXT_LIMIT = 2_000
# Statement trees kept alive for fixes rendered on demand (Fix.later), about 15 KB each; past this,
# fixes are rendered at once, so that a huge input cannot hold every tree in memory.
MAX_KEPT_TREES = 1_000


@dataclass
class PlanInput:
    """A plan to review: from a plan file, or EXPLAIN of a workload statement."""

    name: str  # a file path, or "pg_stat_statements:<queryid>"
    plan: Any  # queryreview.plan.tree.Plan
    statement: str | None = None


@dataclass
class Context:
    """What the engine can offer to rules beyond a statement (filled by sources)."""

    catalog: Any = None
    stats: Any = None
    plans: list[PlanInput] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    severities: dict[str, str] = field(default_factory=dict)
    debug: bool = False  # let a crashing rule raise instead of reporting it as a finding

    def available(self) -> set[str]:
        present = {"stmt", "raw", "settings", "unused", "source", "script"}
        if self.catalog is not None:
            present.add("catalog")
        if self.stats is not None:
            present.add("stats")
        if self.plans:
            present.add("plan")
        return present


class Engine:
    def __init__(self, rules: list[Rule], context: Context | None = None) -> None:
        self.context = context or Context()
        available = self.context.available()
        self.skipped: list[str] = []
        self.statement_rules: list[Rule] = []
        self.file_rules: list[Rule] = []
        self.database_rules: list[Rule] = []
        self.plan_rules: list[Rule] = []
        self._merged_settings: dict[str, dict[str, Any]] = {}
        self._calls: dict[bool, list[tuple[Rule, Callable[..., Any], bool]]] | None = None
        self._kept_trees = 0
        self.selected = {rule.code for rule in rules} | {rule.name for rule in rules}
        for rule in rules:
            missing = [p for p in rule.params if p not in available]
            if missing:
                needs = ", ".join(INPUTS.get(p, p) for p in missing)
                self.skipped.append(f"{rule.code} {rule.name}: needs {needs}")
            elif "unused" in rule.params or "source" in rule.params:
                self.file_rules.append(rule)
            elif "plan" in rule.params:
                self.plan_rules.append(rule)
            elif not {"stmt", "raw"} & set(rule.params):
                self.database_rules.append(rule)
            else:
                self.statement_rules.append(rule)

    def review(self, sources: Iterable[SourceText], review: Review | None = None) -> Review:
        # parse trees are many small objects that die young; the default collector thresholds
        # spend 10-25% of the time walking them (bench/check_speed.py)
        threshold = gc.get_threshold()
        gc.set_threshold(10_000, 20, 20)
        try:
            return self._review(sources, review)
        finally:
            gc.set_threshold(*threshold)

    def _review(self, sources: Iterable[SourceText], review: Review | None = None) -> Review:
        review = review or Review()
        for source in sources:
            review.files += 1
            found = self.review_source(source, review)
            if found:
                review.sources[source.path] = source
            review.findings.extend(found)
        review.findings.extend(self.review_database())
        review.findings.extend(self.review_plans())
        review.findings.sort(key=Finding.sort_key)
        review.skipped_rules = list(self.skipped)
        return review

    def review_database(self) -> list[Finding]:
        """Rules over the catalog or workload as a whole, run once per review."""
        findings = []
        for rule in self.database_rules:
            for hit in self._hits(rule, self._arguments(rule)):
                target = hit.target or "database"
                path = target if ":" in target else f"catalog:{target}"
                findings.append(self._finding(rule, hit, Location(path, 1, 1, 1, 1), None))
        return findings

    def review_plans(self) -> list[Finding]:
        """Plan rules, once per plan; findings point at the plan and carry the node as evidence."""
        findings = []
        for plan_input in self.context.plans:
            for rule in self.plan_rules:
                for hit in self._hits(rule, self._arguments(rule, plan=plan_input.plan)):
                    finding = self._finding(rule, hit, Location(plan_input.name, 1, 1, 1, 1), None)
                    if plan_input.statement is not None:
                        finding = replace(finding, statement=_shorten(plan_input.statement))
                    findings.append(finding)
        return findings

    def _settings(self, rule: Rule) -> dict[str, Any]:
        """A rule's defaults merged with the configuration, once per engine (not per statement)."""
        merged = self._merged_settings.get(rule.name)
        if merged is None:
            merged = {**rule.default_settings(), **self.context.settings.get(rule.name, {})}
            self._merged_settings[rule.name] = merged
        return merged

    def _hits(self, rule: Rule, arguments: dict[str, Any]) -> list[Hit]:
        """A rule's hits; a rule that crashes becomes one finding saying so (nothing else is lost)."""
        try:
            return list(rule.check(**arguments))
        except Exception as error:
            return self._crashed(rule, error)

    def _crashed(self, rule: Rule, error: Exception) -> list[Hit]:
        if self.context.debug:
            raise error
        return [Hit(
            message=f"Rule {rule.name} failed on this input ({type(error).__name__}: {error}); "
                    "it was not checked here",
            help="This is a queryreview bug: please report it with the statement (rerun with --debug for a traceback)",
        )]

    def review_source(self, source: SourceText, review: Review) -> list[Finding]:
        statements = split_statements(source)
        if file_ignored([c for s in statements for c in s.comments]):
            return []
        findings: list[Finding] = []
        all_suppressions: list[Suppression] = []
        script = Script(source, statements)
        for statement in statements:
            # parse one statement at a time and drop its tree after its rules ran: a large file's
            # trees never sit in memory together (script rules read the other statements' text)
            parse_statement(statement)
            review.statements += 1
            if statement.ast is not None:
                review.parsed += 1
            found = self.review_statement(statement, script)
            if statement.ast is not None and _release_tree(statement, found, self._kept_trees < MAX_KEPT_TREES):
                self._kept_trees += 1
            statement.ast = None
            statement._by_type = None
            if statement.comments:
                governing = suppressions(statement)
                all_suppressions.extend(governing)
                found = _unsuppressed(found, governing)
            findings.extend(found)
        unused = [s for s in all_suppressions if not s.used and self._reportable(s)]
        for rule in self.file_rules:
            for hit in self._hits(rule, self._arguments(rule, unused=unused, source=source)):
                location = hit.span and source.location(*hit.span) or source.location(0, 0)
                findings.append(self._finding(rule, hit, location, None))
        return findings

    def _reportable(self, suppression: Suppression) -> bool:
        """An unused directive is worth reporting unless it only names rules not run now."""
        from queryreview.rules.registry import all_rules

        known = {rule.code for rule in all_rules()} | {rule.name for rule in all_rules()}
        tokens = [t.upper() if t.upper().startswith("QR") else t for t in suppression.tokens]
        return not tokens or any(t in self.selected or t not in known for t in tokens)

    def review_statement(self, statement: Statement, script: Script | None = None) -> list[Finding]:
        findings = []
        text = None
        for rule, call, with_script in self._statement_calls(statement.ast is not None):
            try:
                hits = list(call(statement, script) if with_script else call(statement))
            except Exception as error:
                hits = self._crashed(rule, error)
            for hit in hits:
                if text is None:
                    text = _shorten(statement.text)
                findings.append(self._finding(rule, hit, _locate(statement, hit), statement, text))
        return findings

    def _statement_calls(self, parsed: bool) -> list[tuple[Rule, Callable[..., Any], bool]]:
        """The statement rules to run on a parsed statement (or on one that failed to parse: those taking ``raw``),
        each as (rule, its check with the run's fixed arguments bound, takes the script after the statement).

        Built once: binding arguments afresh for every rule on every statement was a tenth of check's time.
        """
        if self._calls is None:
            self._calls = {True: [], False: []}
            for rule in self.statement_rules:
                fixed = self._arguments(rule)
                varying = tuple(name for name in rule.params if name in ("stmt", "raw", "script"))
                for name in varying:
                    fixed.pop(name, None)
                shape = tuple("script" if name == "script" else "stmt" for name in varying)
                if rule.params[: len(varying)] == varying and shape in (("stmt",), ("stmt", "script")):
                    # the statement (and script) come first: call positionally, the rest bound by name
                    call = (rule, partial(rule.check, **fixed) if fixed else rule.check, len(shape) == 2)
                else:
                    call = (rule, _by_name(rule.check, fixed, varying), True)
                self._calls[True].append(call)
                if "stmt" not in rule.params:
                    self._calls[False].append(call)
        return self._calls[parsed]

    def _arguments(self, rule: Rule, **offered: Any) -> dict[str, Any]:
        offered["settings"] = self._settings(rule)
        offered["catalog"] = self.context.catalog
        offered["stats"] = self.context.stats
        return {name: offered.get(name) for name in rule.params}

    def _finding(
        self, rule: Rule, hit: Hit, location: Location, statement: Statement | None, text: str | None = None
    ) -> Finding:
        if text is None and statement is not None:
            text = _shorten(statement.text)
        return Finding(
            code=rule.code,
            rule=rule.name,
            severity=self.context.severities.get(rule.name, rule.severity),
            family=rule.family,
            message=hit.message,
            help=hit.help or rule.help_line,
            location=location,
            statement=text,
            fix=hit.fix,
            evidence=hit.evidence,
        )


def _by_name(check: Callable[..., Any], fixed: dict[str, Any], varying: tuple[str, ...]) -> Callable[..., Any]:
    """``check`` called as call(statement, script) whatever the order of its parameters."""

    def call(statement: Statement, script: Script | None) -> Any:
        per_statement = {"stmt": statement, "raw": statement, "script": script}
        return check(**fixed, **{name: per_statement[name] for name in varying})

    return call


def _release_tree(statement: Statement, findings: list[Finding], keep: bool) -> bool:
    """Unlink the statement's tree (child -> parent) once its rules ran, so that reference counting frees it;
    True if the tree stays, for fixes still to be rendered.

    A sqlglot tree is a web of cycles (each node points at its parent); left to the cyclic
    garbage collector, trees of finished statements cost a tenth of check's time in
    collections. A fix still to be rendered (Fix.later) needs the tree as it is: while
    ``keep`` allows, the tree stays for it; otherwise the fix is rendered now.
    """
    pending = [finding.fix for finding in findings if finding.fix is not None and finding.fix.pending]
    if pending and keep:
        return True
    for fix in pending:
        fix.sql  # noqa: B018 - renders it while the tree is whole
    by_type = statement._by_type
    if by_type is None:
        statement.nodes()  # builds the index: every node of the tree
        by_type = statement._by_type or {}
    for node_type, nodes in by_type.items():
        if type(node_type) is not tuple:  # (classes…) keys repeat nodes listed under their class
            for node in nodes:
                node.parent = None
    return False


def _shorten(text: str) -> str:
    return text if len(text) <= STATEMENT_TEXT_LIMIT else text[:STATEMENT_TEXT_LIMIT] + " …"


def _locate(statement: Statement, hit: Hit) -> Location:
    if hit.span is not None:
        return statement.span_location(*hit.span)
    if hit.node is not None:
        span = node_span(hit.node)
        if span is not None:
            return statement.span_location(*span)
    return statement.location


def _unsuppressed(findings: list[Finding], governing: list[Suppression]) -> list[Finding]:
    kept = []
    for finding in findings:
        covering = [s for s in governing if s.covers(finding)]
        for suppression in covering:
            suppression.used = True
        if not covering:
            kept.append(finding)
    return kept
