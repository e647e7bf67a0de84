"""``python -m gen`` is the ``axgen`` command."""

import sys

from gen.cli import main

sys.exit(main())
