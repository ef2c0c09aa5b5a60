"""Sources build model objects: files, live databases, snapshots, plan files."""
