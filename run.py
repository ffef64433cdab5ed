#!/usr/bin/env python3
"""E-CNY adoption simulator: `python run.py scenarios/baseline.toml` (see README.md)."""

import sys

from model.cli import main

if __name__ == "__main__":
    sys.exit(main())
