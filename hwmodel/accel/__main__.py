"""``python -m hwmodel.accel``: see :mod:`hwmodel.accel.cli`."""

import sys

from hwmodel.accel.cli import main

sys.exit(main())
