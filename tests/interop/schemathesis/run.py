"""Runs the schemathesis command line from the installed package (its console script may not be on PATH)."""

import sys

from schemathesis.cli import schemathesis

if __name__ == "__main__":
    sys.exit(schemathesis())
