#!/usr/bin/env python3
"""Produce tests/redis/compat.expected from a real redis-server.

    python3 scripts/run_compat_redis.py                 # write the fixture (2 runs, must agree)
    python3 scripts/run_compat_redis.py --check         # only compare with the committed fixture
    python3 scripts/run_compat_redis.py --port 7400     # use an already running server

Each run starts a fresh redis-server (unless --port), pipes
tests/redis/compat.redis into `redis-cli --no-raw -p PORT`, and removes the
`(N.NNs)` timing lines redis-cli prints after commands slower than 0.5 s.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from resp import RedisServer  # noqa: E402

ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "tests", "redis", "compat.redis")
EXPECTED = os.path.join(ROOT, "tests", "redis", "compat.expected")
TIMING = re.compile(r"^\([0-9.]+s\)$")


def run_once(port=None):
    srv = None
    if port is None:
        srv = RedisServer().start()
        port = srv.port
    try:
        with open(SCRIPT, "rb") as f:
            out = subprocess.run(["redis-cli", "--no-raw", "-p", str(port)], stdin=f,
                                 stdout=subprocess.PIPE, check=True).stdout.decode("utf-8")
    finally:
        if srv:
            srv.stop()
    lines = [l for l in out.split("\n") if not TIMING.match(l)]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="compare with committed fixture only")
    a = ap.parse_args()
    outs = [run_once(a.port) for _ in range(a.runs)]
    ok = True
    for i, o in enumerate(outs[1:], 2):
        if o != outs[0]:
            ok = False
            sys.stdout.writelines(difflib.unified_diff(outs[0].splitlines(True), o.splitlines(True),
                                                       "run1", "run%d" % i))
    if a.check:
        ref = open(EXPECTED, encoding="utf-8").read()
        if outs[0] != ref:
            ok = False
            sys.stdout.writelines(difflib.unified_diff(ref.splitlines(True), outs[0].splitlines(True),
                                                       "compat.expected", "redis"))
    elif ok:
        with open(EXPECTED, "w", encoding="utf-8") as f:
            f.write(outs[0])
    n_cmd = sum(1 for l in open(SCRIPT, encoding="utf-8") if l.strip())
    print("%d commands, %d output lines, %d runs identical: %s" % (
        n_cmd, outs[0].count("\n"), a.runs, ok), file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
