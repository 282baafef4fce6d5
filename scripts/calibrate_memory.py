#!/usr/bin/env python3
"""Measure redis-server 7.0 used_memory per key, for ttlsim's memory model.

    python3 scripts/calibrate_memory.py                # full run (N = 1e4, 1e5, 1e6), ~5 min
    python3 scripts/calibrate_memory.py --sizes 10000  # quick
    python3 scripts/calibrate_memory.py --repeat 2     # run every config twice, check deltas agree

Writes
  tests/data/memory_calibration.csv         keys,value_kind,value_len,ttl,used_memory_before,
                                            used_memory_after,delta,bytes_per_key
  tests/data/memory_calibration_detail.csv  the same plus dict bucket counts (DEBUG HTSTATS),
                                            the docs/redis-facts.md section 5 formula prediction
                                            and the difference measured - predicted
  tests/data/redis_baseline.txt             fresh-server used_memory, INFO memory, MEMORY STATS,
                                            per-client overhead, FLUSHALL check

Method (one fresh redis-server per configuration, default config except
slowlog-log-slower-than -1, no maxmemory):
  * a warm-up calls every command used later once on db 9 first: Redis 7.0
    allocates a ~24.7 KB latency histogram per command on its first call
    (latency-tracking yes), which would otherwise show up in the delta.
  * used_memory is read by a *fresh* connection that sends exactly one
    `INFO memory clients` and is then closed, so the probing client is in the
    same state at every read (its query buffer, 16 KiB reply buffer, client
    struct are included identically); we require connected_clients == 1.
  * keys are loaded with a separate pipelined connection, which is closed
    before the "after" probe; we then wait until DEBUG HTSTATS shows no
    incremental rehash in progress.
  * before/after are each read twice; the script reports if the two reads differ.

value_kind: string (value = 'x' * value_len), shared_int (value i % 10000:
Redis's shared integer objects, value_len = 4 = longest), int (value
100000 + i, INT-encoded robj, value_len = longest decimal length).
ttl: 0 = no TTL, 1 = SET ... EX 100000.
"""

import argparse
import csv
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from resp import Redis, RedisServer, parse_info  # noqa: E402

ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "tests", "data")


# ---------------------------------------------------------------------------
# jemalloc size classes / formula from docs/redis-facts.md section 5
def jemalloc_class(n):
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) // 16 * 16
    k = (n - 1).bit_length() - 1          # 2^k < n <= 2^(k+1)
    step = 1 << (k - 2)
    return (n + step - 1) // step * step


def sds_alloc(length):
    if length < 32 and length > 0:
        hdr = 1
    elif length < 256:
        hdr = 3
    elif length < 65536:
        hdr = 5
    elif length < 2 ** 32:
        hdr = 9
    else:
        hdr = 17
    return jemalloc_class(hdr + length + 1)


def value_bytes(kind, value):
    if kind == "shared_int":
        return 0
    if kind == "int":
        return 16
    n = len(value)
    if n <= 44:
        return jemalloc_class(16 + 3 + n + 1)
    return 16 + sds_alloc(n)


def predict(n, kind, values, ttl, main_buckets, exp_buckets):
    key_len = 12  # key:%08d
    per_key = 32 + sds_alloc(key_len) + (32 if ttl else 0) + value_bytes(kind, values(0))
    return n * per_key + 8 * main_buckets + 8 * exp_buckets


# ---------------------------------------------------------------------------
def probe(port):
    """used_memory as seen by a fresh connection sending one INFO."""
    with Redis(port=port) as r:
        return parse_info(r.command("INFO", "memory", "clients"))


def stable_probe(port):
    a = probe(port)
    time.sleep(0.05)
    b = probe(port)
    if a["connected_clients"] != 1 or b["connected_clients"] != 1:
        raise RuntimeError("unexpected connected_clients %s/%s" % (a["connected_clients"], b["connected_clients"]))
    return a["used_memory"], b["used_memory"], b


def htstats(port):
    with Redis(port=port) as r:
        s = r.command("DEBUG", "HTSTATS", "0").decode()
    # split into [Dictionary HT] and [Expires HT]
    parts = re.split(r"\[(Dictionary|Expires) HT\]", s)
    res = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        sizes = [int(x) for x in re.findall(r"table size: (\d+)", body)]
        res[name] = {"sizes": sizes, "rehashing": "Hash table 1" in body}
    return res, s


def wait_no_rehash(port, timeout=30):
    t = time.time() + timeout
    while True:
        st, raw = htstats(port)
        if not any(v["rehashing"] for v in st.values()):
            return st, raw
        if time.time() > t:
            raise RuntimeError("still rehashing:\n" + raw)
        time.sleep(0.1)


def make_values(kind, vlen):
    if kind == "string":
        v = b"x" * vlen
        return lambda i: v
    if kind == "shared_int":
        return lambda i: str(i % 10000).encode()
    if kind == "int":
        return lambda i: str(100000 + i).encode()
    raise ValueError(kind)


def load(port, n, values, ttl, chunk=20000):
    with Redis(port=port, timeout=300) as r:
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            buf = []
            for i in range(start, end):
                k = b"key:%08d" % i
                v = values(i)
                if ttl:
                    buf.append(b"*5\r\n$3\r\nSET\r\n$12\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$6\r\n100000\r\n"
                               % (k, len(v), v))
                else:
                    buf.append(b"*3\r\n$3\r\nSET\r\n$12\r\n%s\r\n$%d\r\n%s\r\n" % (k, len(v), v))
            r.sock.sendall(b"".join(buf))
            want = 5 * (end - start)
            got = r.rfile.read(want)
            if got != b"+OK\r\n" * (end - start):
                raise RuntimeError("unexpected reply while loading: %r" % got[:200])
        if r.command("DBSIZE") != n:
            raise RuntimeError("DBSIZE mismatch")


def warm_up(port):
    """Call every command used later once, on db 9, so that Redis 7.0 allocates
    the per-command latency histograms (latency-tracking, ~24.7 KB each on the
    first call of a command) before the "before" probe; db0 stays untouched."""
    with Redis(port=port) as r:
        r.command("SELECT", 9)
        r.command("SET", "warm", "x", "EX", 100000)
        r.command("DEL", "warm")
        r.command("DBSIZE")
        r.command("DEBUG", "HTSTATS", "0")
        r.command("INFO", "memory", "clients")
        r.command("FLUSHALL", "SYNC")  # only frees db9's (empty) tables
    time.sleep(0.05)


def measure(n, kind, vlen, ttl, do_flush_check=False):
    values = make_values(kind, vlen)
    # slowlog disabled: a slow DEBUG HTSTATS / FLUSHALL on 1M keys would otherwise
    # leave a ~216-264 byte SLOWLOG entry in used_memory.
    with RedisServer(config={"slowlog-log-slower-than": -1}) as srv:
        warm_up(srv.port)
        b1, b2, _ = stable_probe(srv.port)
        load(srv.port, n, values, ttl)
        time.sleep(0.2)
        st, _ = wait_no_rehash(srv.port)
        time.sleep(0.2)
        a1, a2, info_after = stable_probe(srv.port)
        flush = None
        if do_flush_check:
            with Redis(port=srv.port) as r:
                r.command("FLUSHALL", "SYNC")
            time.sleep(0.2)
            f1, f2, _ = stable_probe(srv.port)
            flush = (f1, f2)
    mb = (st.get("Dictionary") or {}).get("sizes") or [0]
    eb = (st.get("Expires") or {}).get("sizes") or [0]
    return dict(before=(b1, b2), after=(a1, a2), main_buckets=mb[0], exp_buckets=eb[0],
                flush=flush, values=values)


def baseline():
    lines = []
    with RedisServer() as srv:
        port = srv.port
        with Redis(port=port) as r:   # very first command on a fresh server
            first = r.command("INFO", "memory", "clients").decode()
        d = parse_info(first)
        lines.append("# redis-server fresh, default config (save '', appendonly no), one connected client")
        lines.append("# (the probe connection itself, its first command INFO: no latency histogram yet)")
        lines.append("used_memory_fresh_one_client=%d" % d["used_memory"])
        lines.append("used_memory_startup=%d" % d["used_memory_startup"])
        lines.append("one_client_overhead=used_memory-used_memory_startup=%d"
                     % (d["used_memory"] - d["used_memory_startup"]))
        time.sleep(0.05)
        u1 = probe(port)["used_memory"]
        lines.append("used_memory_second_probe=%d  (+%d: INFO's latency histogram, allocated after its "
                     "first call)" % (u1, u1 - d["used_memory"]))
        with Redis(port=port) as r:
            r.command("ECHO", "x")
        time.sleep(0.05)
        u2 = probe(port)["used_memory"]
        lines.append("latency_histogram_bytes_per_distinct_command=%d  (first ECHO ever; latency-tracking yes "
                     "is the 7.0 default, one hdr_histogram per command on first use)" % (u2 - u1))
        # idle extra connections: what does each connected client cost?
        extra = [Redis(port=port) for _ in range(10)]
        for e in extra:
            e.command("ECHO", "x")
        time.sleep(0.1)
        d10 = probe(port)
        lines.append("used_memory_with_10_extra_clients_after_one_ECHO_each=%d  connected_clients=%d"
                     % (d10["used_memory"], d10["connected_clients"]))
        lines.append("per_connected_client_bytes=%.1f" % ((d10["used_memory"] - u2) / 10))
        for e in extra:
            e.close()
        time.sleep(0.2)
        lines.append("used_memory_after_closing_them=%d" % probe(port)["used_memory"])
        with Redis(port=port) as r:
            stats = r.command("MEMORY", "STATS")
            ver = r.info("server")["redis_version"]
        lines.insert(0, "redis_version=%s" % ver)
        lines.append("")
        lines.append("# INFO memory clients, first command on the fresh server")
        lines += [l for l in first.split("\r\n") if l]
        lines.append("")
        lines.append("# MEMORY STATS (later, after the probes above)")
        for k, v in zip(stats[0::2], stats[1::2]):
            if isinstance(v, list):
                v = " ".join(str(x.decode() if isinstance(x, bytes) else x) for x in v)
            elif isinstance(v, bytes):
                v = v.decode()
            lines.append("%s=%s" % (k.decode() if isinstance(k, bytes) else k, v))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=1, help="measure each config this many times")
    ap.add_argument("--out", default=os.path.join(DATA, "memory_calibration.csv"))
    a = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    sizes = [int(x) for x in a.sizes.split(",")]
    kinds = [("string", 10), ("string", 44), ("string", 45), ("string", 100), ("string", 1000),
             ("shared_int", 4), ("int", None)]

    base_lines = baseline()
    rows, detail = [], []
    flush_note = []
    for n in sizes:
        for kind, vlen in kinds:
            if kind == "int":
                vlen = len(str(100000 + n - 1))
            for ttl in (0, 1):
                deltas = []
                for rep in range(a.repeat):
                    m = measure(n, kind, vlen, ttl, do_flush_check=(rep == 0 and kind == "string"
                                                                     and vlen == 100))
                    b1, b2 = m["before"]
                    a1, a2 = m["after"]
                    if b1 != b2 or a1 != a2:
                        print("WARNING unstable probe: before %d/%d after %d/%d" % (b1, b2, a1, a2),
                              file=sys.stderr)
                    delta = a2 - b2
                    deltas.append(delta)
                    if m["flush"]:
                        flush_note.append("N=%d string100 ttl=%d: before=%d after_load=%d after_FLUSHALL_SYNC=%d "
                                          "(FLUSHALL leftover %+d)" % (n, ttl, b2, a2, m["flush"][1],
                                                                       m["flush"][1] - b2))
                    pred = predict(n, kind, m["values"], ttl, m["main_buckets"],
                                   m["exp_buckets"] if ttl else 0)
                    if rep == 0:
                        rows.append([n, kind, vlen, ttl, b2, a2, delta, "%.2f" % (delta / n)])
                        detail.append([n, kind, vlen, ttl, b2, a2, delta, "%.2f" % (delta / n),
                                       m["main_buckets"], m["exp_buckets"] if ttl else 0, pred,
                                       delta - pred])
                    print("N=%-8d %-10s len=%-4d ttl=%d before=%d after=%d delta=%d (%.2f B/key) "
                          "buckets=%d/%d predicted=%d diff=%+d" % (
                              n, kind, vlen, ttl, b2, a2, delta, delta / n, m["main_buckets"],
                              m["exp_buckets"], pred, delta - pred), flush=True)
                if a.repeat > 1 and len(set(deltas)) > 1:
                    print("WARNING deltas differ across repeats: %s" % deltas, file=sys.stderr)
                elif a.repeat > 1:
                    print("   repeat check: %d identical deltas" % a.repeat)

    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["keys", "value_kind", "value_len", "ttl", "used_memory_before",
                    "used_memory_after", "delta", "bytes_per_key"])
        w.writerows(rows)
    with open(os.path.join(os.path.dirname(a.out), "memory_calibration_detail.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["keys", "value_kind", "value_len", "ttl", "used_memory_before",
                    "used_memory_after", "delta", "bytes_per_key", "main_buckets",
                    "expires_buckets", "formula_delta", "measured_minus_formula"])
        w.writerows(detail)
    with open(os.path.join(DATA, "redis_baseline.txt"), "w") as f:
        f.write("\n".join(base_lines) + "\n")
        f.write("\n# FLUSHALL check (used_memory read by a fresh probe connection)\n")
        f.write("\n".join(flush_note) + "\n")


if __name__ == "__main__":
    main()
