"""Cost of the ``python`` tool's sandbox, and what each hostile program gets back.

    python bench/python_sandbox.py [--seconds 10] [--memory-mb 1024] [--repeats 5]

Prints one Markdown row per program: wall seconds from start to the answer (median of
``--repeats`` runs), the one line the model reads, and this process's resident memory before
and after (the trainer's stand-in must not grow or die).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from vlmr.tools.sandbox import REPOSITORY, SandboxLimits, run_sandboxed

PROGRAMS = {
    "print(6 * 7)": "print(6 * 7)",
    "PIL crop + save (640x480)": "from PIL import Image\nImage.new('RGB', (640, 480)).crop((0, 0, 320, 240)).save('a.png')",
    "import numpy": "import numpy",
    "infinite loop": "while True:\n    pass",
    "fork bomb": "import os\nwhile True:\n    os.fork()",
    "10 GB allocation": "x = bytearray(10 * 1024 ** 3)",
    "read /etc/passwd": "print(open('/etc/passwd').read())",
    "read the repository": f"print(open({str(REPOSITORY / 'README.md')!r}).read())",
    "write outside scratch": "open('/tmp/escaped.txt', 'w').write('x')",
    "network (TCP to 127.0.0.1:9)": "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=2)",
    "1 GB stdout": "import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * 2 ** 20)",
    "import vlmr (the trainer's modules)": "import vlmr.train.grpo",
    "kill the parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    limits = SandboxLimits(seconds=args.seconds, memory_mb=args.memory_mb)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"limits: {limits}; this process: {rss} MB peak RSS before\n")
    print("| program | seconds (median) | the model reads |\n|---|---|---|")
    for name, code in PROGRAMS.items():
        times, result = [], None
        for _ in range(1 if "loop" in name else args.repeats):
            start = time.perf_counter()
            result = run_sandboxed(code, limits)
            times.append(time.perf_counter() - start)
        answer = f"Error: {result.error}" if result.error else f"ok: {result.stdout.strip()[:40]!r}, files {list(result.files)}"
        print(f"| {name} | {statistics.median(times):.3f} | {answer} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\nthis process: {rss} MB peak RSS after")


if __name__ == "__main__":
    main()
