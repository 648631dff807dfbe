"""`python -m creditlink` runs the command line."""

from creditlink.interfaces.cli.main import run

run()
