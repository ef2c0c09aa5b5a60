"""SQL text handling: splitting, parsing (sqlglot, postgres dialect), positions, rewrites."""
