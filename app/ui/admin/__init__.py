"""Admin room: running the office.

Users, settings, backups, the audit log, the admin menu and the first-run wizard.
Imports app.ui.common only (of app.ui)."""
