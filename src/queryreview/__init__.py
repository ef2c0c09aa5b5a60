"""queryreview: review SQL query performance on PostgreSQL."""

__version__ = "0.1.0"
