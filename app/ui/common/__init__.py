"""Common room: pieces every screen uses.

Background jobs, table models, styles, wording, shortcuts, help, labels of
records. Imports no other room of app.ui."""
