"""`python -m kerasdream ...`: the same as the `kerasdream` command."""

import sys

from kerasdream.cli import main

sys.exit(main())
