"""``python -m triage``: the triage command line (see :mod:`triage.cli`)."""

from triage.cli import main

main()
