"""``python -m ferroquant``: the command line."""

import sys

from ferroquant.cli import main

sys.exit(main())
