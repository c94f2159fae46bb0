"""`python -m kerasdream ...`: the same as the `kerasdream` command."""

import sys

from kerasdream.cli.commands import main

sys.exit(main())
