"""Entry point of the packaged program (PyInstaller's script): the same CLI as
`python -m app`; without arguments (or with only --data) it opens the window."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
