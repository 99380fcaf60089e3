"""Entry room: filling in a form.

The form window, its question pages and editors, rosters, and where a problem sits.
Imports app.ui.common only (of app.ui)."""
