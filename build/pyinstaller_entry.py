"""Entry script for the PyInstaller bundle (see infer0.spec): the same `infer0` command."""

import sys

from infer0app.cli import main

if __name__ == "__main__":
    sys.exit(main())
