#!/usr/bin/env python3
"""Replay tests/redis/compat.redis against a real redis-server through resp.py
and print each command next to its reply, for human review of the fixture
(compat.expected is produced by redis-cli itself; this is only an aid).

    python3 scripts/compat_annotate.py [--port P] [--script F] > /tmp/compat.annotated

Without --port a private server is started. Lines are split like redis-cli
does (sdssplitargs: double quotes with \\n \\r \\t \\b \\a \\xHH escapes,
single quotes with \\' only); unparsable lines print 'Invalid argument(s)'.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Redis, RedisServer, RespError  # noqa: E402

HEX = "0123456789abcdefABCDEF"


def split_args(line):
    """Port of sds.c sdssplitargs(); returns list of bytes or None."""
    s = line.encode("utf-8", "surrogateescape")
    i, n, out = 0, len(s), []
    while True:
        while i < n and s[i:i + 1].isspace():
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                c = s[i]
                if (c == 0x5C and i + 3 < n + 0 and s[i + 1:i + 2] == b"x"
                        and chr(s[i + 2]) in HEX and chr(s[i + 3]) in HEX):
                    cur.append(int(s[i + 2:i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    m = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
                    cur.append(m.get(s[i], s[i]))
                elif c == 0x22:
                    if i + 1 < n and not s[i + 1:i + 2].isspace():
                        return None
                    inq = False
                    i += 1
                    break
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = s[i]
                if c == 0x5C and i + 1 < n and s[i + 1] == 0x27:
                    i += 1
                    cur.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and not s[i + 1:i + 2].isspace():
                        return None
                    insq = False
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = s[i]
                if c in b" \n\r\t\0":
                    break
                if c == 0x22:
                    inq = True
                elif c == 0x27:
                    insq = True
                else:
                    cur.append(c)
            i += 1
        out.append(bytes(cur))


def fmt(r):
    if isinstance(r, RespError):
        return "(error) " + str(r)
    if r is None:
        return "(nil)"
    if isinstance(r, int):
        return "(integer) %d" % r
    if isinstance(r, bytes):
        return repr(r)[1:]
    if isinstance(r, list):
        return "[" + ", ".join(fmt(x) for x in r) + "]"
    return str(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--script", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "redis", "compat.redis"))
    a = ap.parse_args()
    srv = None
    if a.port is None:
        srv = RedisServer().start()
        a.port = srv.port
    try:
        r = Redis(port=a.port)
        for lineno, line in enumerate(open(a.script, encoding="utf-8"), 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            args = split_args(line)
            if args is None:
                print("%4d %-45s => Invalid argument(s)" % (lineno, line))
                continue
            r.send(args)
            print("%4d %-45s => %s" % (lineno, line, fmt(r.read_reply())))
    finally:
        if srv:
            srv.stop()


if __name__ == "__main__":
    main()
