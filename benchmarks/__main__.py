"""`python -m benchmarks`: run every benchmark (see run_all.py)."""

from .run_all import main

main()
