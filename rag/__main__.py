"""``python -m rag``: Groundwork's command line (see ``rag.cli``)."""

import sys

from rag.cli import main

sys.exit(main())
