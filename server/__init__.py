"""The reference central SIEE server (FastAPI) and its admin CLI.

It speaks app.sync.protocol (docs/protocol.md) and validates what it receives
with app.forms. Storage is SQLAlchemy Core: SQLite by default, PostgreSQL for a
real deployment."""
