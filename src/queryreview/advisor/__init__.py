"""The index advisor: candidates from statements, what-if costing, workload-wide selection.

    statements, notes = from_workload(snapshot.workload)          # or from_sources(read_sources(paths, …))
    pool = generate(statements, catalog)                           # candidates, and why each
    with HypoCosting(session) as costing:                          # hypopg_reset() on the way out
        whatif = WhatIf(costing)                                   # cached costs, counted calls
        selection = select(statements, pool.candidates, whatif, Limits(budget_bytes=2 << 30))
        recommendations = build(selection, whatif, pool, catalog, costing.validated_by)

(advise_pipeline.py and run.py do all of it, bad input included.)

Modules: statements.py (what to optimise, and its weight), candidates.py (indexes worth
trying), existing.py (indexes the database already has that serve a candidate),
selectivity.py (pg_stats fractions), whatif.py (hypopg costing and the cache),
real_index.py (real indexes rolled back, --disposable), estimate.py (no what-if server),
select.py (the workload-wide choice), recommend.py (Recommendation objects with their
evidence), run.py (one run: backend choice, rejections, notes), drops.py (DROP INDEX).
"""
