"""``python -m benchmarks [--quick] [...]``: the engine benchmarks (``benchmarks/engines.py``)."""

import sys

from .engines import main

sys.exit(main())
