"""Run a command and write its peak resident memory (KiB) to a file.

    python -m evaluation.peak_rss OUT_FILE -- COMMAND [ARGS ...]

Why a wrapper: a child started straight from a large process (the evaluation holds several
models) counts that parent's memory in its own peak RSS, because it runs in a copy of the
parent until it executes the command. Started from this small process instead, the figure is
the command's own. Standard input and output pass through unchanged; the exit code is the command's.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    proc = subprocess.Popen(argv[2:])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(argv[0], "w", encoding="ascii") as fh:
        fh.write(str(usage.ru_maxrss))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
