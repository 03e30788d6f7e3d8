"""``python -m hashpivot`` runs the command-line interface."""

from __future__ import annotations

import sys

from hashpivot.cli import main

sys.exit(main())
