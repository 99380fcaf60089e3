"""Review room: the supervisor's work.

Review queue and detail, dashboard, exports, constancias.
Imports app.ui.common only (of app.ui)."""
