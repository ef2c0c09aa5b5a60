"""EXPLAIN plans: parsing (FORMAT JSON) into a tree with derived per-node figures."""
