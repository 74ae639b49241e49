"""Pages a person reads: a run's report (report.html) and the comparison of runs (compare.html).

Importing this package imports matplotlib; `import credsim` does not import it.
"""

from .compare import build_compare, compare, write_compare
from .page import build_report, write_report

__all__ = ["build_compare", "build_report", "compare", "write_compare", "write_report"]
