"""Practice mode's screens (issue 18): the band on every window, the exercises, their
results, the trainees' progress, the guided first survey's hints, PDF writing.
Imports only app.ui.common of the other rooms; the shell puts it together."""
