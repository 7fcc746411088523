"""python3 -m punchlab.report RESULTS... -o report.html

The self-contained HTML report (see punchlab.analysis.html_report); also
`punchlab report`, which runs this module. Reads files only: works without
the C++ extension.
"""

import sys

from .analysis.html_report import main

if __name__ == "__main__":
    sys.exit(main())
