"""Encrypted local storage: one SQLite file per workspace (see DESIGN.md "Data at rest")."""
