"""``python -m zeet_iam_audit``: the same as the ``zeet-iam-audit`` command."""

import sys

from zeet_iam_audit.cli import main

sys.exit(main())
