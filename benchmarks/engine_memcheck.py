"""Run the example analysis under valgrind and print the count of memory errors.

durable_rules is C code with known out-of-bounds reads for some pattern
shapes (see src/pmorules/rules/compile.py, _join_rank). This check shows the
compiled default rulebook stays clear of them. Needs valgrind (apt-get install valgrind).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = (
    "import datetime; from pmorules.analysis import analyze; "
    f"a = analyze({str(ROOT / 'knowledge' / 'example')!r}, datetime.date(2026, 3, 20)); print(len(a.findings))"
)


def main() -> int:
    run = subprocess.run(
        ["valgrind", "--error-limit=no", sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=False
    )
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", run.stderr)
    print(f"findings: {run.stdout.strip()}  valgrind errors: {summary.group(1) if summary else 'unknown'}")
    return 0 if summary and summary.group(1) == "0" else 1


if __name__ == "__main__":
    sys.exit(main())
