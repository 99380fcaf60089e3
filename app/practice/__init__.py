"""Practice mode's content (issue 18), above the workspace and without Qt: the graded
exercises and their answer keys (exercises.py), scoring (scoring.py), the supervisor
exercise (review_exercise.py), progress and readiness (progress.py, report.py), the
paper forms (paper.py), the first-survey hints (hints.py) and the handover checklist
of a real workspace (handover.py). The practice workspace itself, and its guarantee
that nothing reaches a server, live in app/workspace/practice*.py."""
