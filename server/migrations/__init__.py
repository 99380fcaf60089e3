"""Alembic migrations of the server schema (`siee-server db upgrade`).

Revision 0001 is the schema of the first release (created without Alembic);
every later change to server/db.py comes with a revision here."""
