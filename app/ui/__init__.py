"""Qt desktop program (PySide6). Talks only to app.workspace, app.forms and app.core."""
