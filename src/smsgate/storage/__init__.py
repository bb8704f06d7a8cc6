"""The one place that knows SQL: SQLite (embedded default) and PostgreSQL, one schema, migrations."""
