"""The command line (`siee-campo`, `python -m app`): the workspace's operations for
IT, trainers and scripts, without Qt (only `run` opens the window).

    main.py    the parser and the general commands (init, users, records, backup...)
    sync.py    `sync` commands (enroll, now, status, log, USB export/import, watch)
    doctor.py  `doctor`: a diagnostic report readable without logging in
"""

from app.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
