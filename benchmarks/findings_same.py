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
import filecmp
import json
import os
import shutil
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


def run(workspace: Path, out: Path) -> tuple[float, float]:
    """Write the JSON of one analysis to ``out``; its wall time and the peak memory (MiB) of its process.

    This process stays small (workspaces are written and outputs read by children): a child starts as a copy
    of its parent, whose memory would count in the child's peak."""
    command = [sys.executable, "-m", "pmorules", "analyze", str(workspace), "--format", "json"]
    with out.open("wb") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{workspace}: pmorules analyze exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss / 1024


def findings(output: Path, workspace: str, body: Path) -> None:
    """(In a child.) Write the findings of an analysis's JSON, the workspace's path written as <workspace> so
    that runs in different folders compare; print how many there are."""
    text = output.read_bytes().replace(workspace.encode(), b"<workspace>")
    found = json.loads(text)["findings"]
    body.write_bytes(json.dumps(found, indent=2, ensure_ascii=False).encode())
    print(len(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--shape", action="append", choices=list(SHAPES), help="default: every shape")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--save", type=Path, help="keep the findings here (the baseline)")
    group.add_argument("--compare", type=Path, help="compare the findings with a baseline saved here")
    parser.add_argument("--findings", nargs=3, help=argparse.SUPPRESS)  # internal: output, workspace, body
    args = parser.parse_args()
    if args.findings:
        findings(Path(args.findings[0]), args.findings[1], Path(args.findings[2]))
        return
    differ = []
    print(f"{'shape':>18} {'services':>8} {'wall s':>7} {'peak MiB':>8} {'JSON MB':>8} {'findings':>8}  same")
    with tempfile.TemporaryDirectory(prefix="pmorules-same-") as tmp:
        for shape in args.shape or list(SHAPES):
            for n in args.sizes:
                workspace, output, body = Path(tmp) / f"{shape}-{n}", Path(tmp) / "out.json", Path(tmp) / "body.json"
                generate(shape, workspace, n)
                wall, peak = run(workspace, output)
                count = subprocess.run([sys.executable, __file__, "--findings", str(output), str(workspace), str(body)],
                                       capture_output=True, text=True, check=True).stdout.strip()
                name = f"{shape}-{n}.findings.json"
                same = "-"
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(body, args.save / name)
                    shutil.copyfile(output, args.save / f"{shape}-{n}.json")
                if args.compare:
                    same = "yes" if filecmp.cmp(args.compare / name, body, shallow=False) else "NO"
                    if same == "NO":
                        differ.append(name)
                print(f"{shape:>18} {n:>8} {wall:>7.2f} {peak:>8.0f} {output.stat().st_size / 1e6:>8.2f} {count:>8}  "
                      f"{same}", flush=True)
    if differ:
        raise SystemExit(f"findings differ: {', '.join(differ)}")


if __name__ == "__main__":
    main()
