"""Rules: one module per rule (``check`` function), described by ``rules/<code>-<name>.yaml``."""
