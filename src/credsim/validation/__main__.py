"""`python -m credsim.validation`: regenerate docs/validation.md and docs/figures/validation-*.png.

    python -m credsim.validation [--agents 100000] [--replications 3] [--seeds 10] [--docs docs]

The full-size check of the court-blacklist targets is `--agents 1000000` (minutes on one thread);
the committed docs/validation.md is that check.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .page import write_page


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m credsim.validation", description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=100_000, help="persons per court-blacklist run")
    ap.add_argument("--replications", type=int, default=3, help="seeds per court-blacklist target")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per spread (Granovetter)")
    ap.add_argument("--docs", type=Path, default=Path("docs"), help="the docs folder")
    a = ap.parse_args(argv)
    path = write_page(a.docs, a.agents, a.replications, a.seeds)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
