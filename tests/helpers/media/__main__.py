"""``python -m tests.helpers.media SAMPLE_DIR`` builds the ``make run`` sample in SAMPLE_DIR."""

import sys

from tests.helpers.media.sample import main

sys.exit(main())
