"""Check that speed work leaves the findings byte-identical: `pmorules analyze --format json` on every shape.

Generates each shape of benchmarks/shapes.py at the given sizes, runs ``pmorules analyze --format json`` in a
fresh process as a user does, and prints wall time, peak memory and output size. ``--save DIR`` keeps each
output, whole and its ``findings`` part (the baseline, before the change); ``--compare DIR`` checks the findings of this
run against that baseline and exits 1 when any differ.

    python benchmarks/findings_same.py 1000 10000 --save /tmp/before      # on the old code
    python benchmarks/findings_same.py 1000 10000 --compare /tmp/before   # on the new code
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shapes import SHAPES  # noqa: E402


def generate(shape: str, workspace: Path, n: int) -> None:
    """Write a workspace in a child process, so that this process stays small: a child forked from it starts
    with its memory, which would count in the child's peak."""
    code = f"from shapes import SHAPES; from pathlib import Path; SHAPES[{shape!r}](Path({str(workspace)!r}), {n})"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent, check=True)


def run(workspace: Path) -> tuple[bytes, float, float]:
    """The JSON of one analysis, its wall time and the peak memory (MiB) of its process."""
    command = [sys.executable, "-m", "pmorules", "analyze", str(workspace), "--format", "json"]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1):
            raise SystemExit(f"{workspace}: pmorules analyze exited {process.returncode}")
        out.seek(0)
        return out.read(), wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--shape", action="append", choices=list(SHAPES), help="default: every shape")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--save", type=Path, help="keep the findings here (the baseline)")
    group.add_argument("--compare", type=Path, help="compare the findings with a baseline saved here")
    args = parser.parse_args()
    differ = []
    print(f"{'shape':>18} {'services':>8} {'wall s':>7} {'peak MiB':>8} {'JSON MB':>8} {'findings':>8}  same")
    with tempfile.TemporaryDirectory(prefix="pmorules-same-") as tmp:
        for shape in args.shape or list(SHAPES):
            for n in args.sizes:
                workspace = Path(tmp) / f"{shape}-{n}"
                generate(shape, workspace, n)
                text, wall, peak = run(workspace)
                text = text.replace(str(workspace).encode(), b"<workspace>")  # the same wherever it was written
                findings = json.loads(text)["findings"]
                body = json.dumps(findings, indent=2, ensure_ascii=False).encode()
                name = f"{shape}-{n}.findings.json"
                same = "-"
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    (args.save / name).write_bytes(body)
                    (args.save / f"{shape}-{n}.json").write_bytes(text)
                if args.compare:
                    same = "yes" if (args.compare / name).read_bytes() == body else "NO"
                    if same == "NO":
                        differ.append(name)
                print(f"{shape:>18} {n:>8} {wall:>7.2f} {peak:>8.0f} {len(text) / 1e6:>8.2f} {len(findings):>8}  {same}",
                      flush=True)
    if differ:
        raise SystemExit(f"findings differ: {', '.join(differ)}")


if __name__ == "__main__":
    main()
