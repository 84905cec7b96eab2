#!/usr/bin/env python3
"""Run the end-to-end tests (every tests/e2e/test_*.py); the last line counts them.

Usage: tests/e2e/run.py [NAME-SUBSTRING ...]
"""
import glob
import importlib
import os
import sys

sys.stdout.reconfigure(line_buffering=True)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_*.py"))):
    importlib.import_module(os.path.basename(path)[:-3])

passed, failed, skipped = harness.run_all(sys.argv[1:])
print("e2e: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
