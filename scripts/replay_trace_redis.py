#!/usr/bin/env python3
"""Replay a ttlsim trace against a real redis-server 7.0 and report the hit ratio.

    # own fresh server per rep; maxmemory = measured baseline + 220000 bytes of data
    python3 scripts/replay_trace_redis.py --trace tests/data/trace_zipf_10k.csv \\
        --policy allkeys-lru --maxmemory-data 220000 --reps 3 --json out.json

    # absolute maxmemory, other knobs
    python3 scripts/replay_trace_redis.py --trace T.csv --maxmemory 2000000 \\
        --policy allkeys-lfu --samples 10 --hz 100 --config lfu-log-factor=5

    # an already running server (only the given knobs are CONFIG SET)
    python3 scripts/replay_trace_redis.py --trace T.csv --port 7400 --policy allkeys-lru

Trace CSV: header `time_ms,op,key,size,ttl_ms`; ttl_ms 0 = no TTL.
  get     GET key; on nil (miss): SET key <size bytes> [PX ttl_ms]   (cache-aside fill)
  set     SET key <size bytes> [PX ttl_ms]
  del     DEL key
  expire  PEXPIRE key ttl_ms
  persist PERSIST key
  incr    INCR key, then PEXPIRE key ttl_ms if ttl_ms > 0 and INCR returned 1
Values are b"v" * size.

Pacing: requests with the same time_ms form one batch, sent at wall time
start + time_ms (sleep, then spin for the last ms; when behind, immediately).
A batch is split into sub-batches at the first repeated key, so that within a
sub-batch all keys differ; each sub-batch is sent as one pipeline of its
primary commands, then (after the replies) one pipeline of the follow-ups
(fill SETs for GET misses, PEXPIREs after INCR == 1).  One TCP connection is
used for the whole replay.

Own-server mode (default, no --port): a fresh redis-server per rep with
maxmemory-policy/maxmemory-samples/hz/--config given on the command line; a
separate connection first calls every command the replay uses once on db 9
(Redis 7.0 allocates a ~24.7 KB latency histogram per command at first use,
which counts against maxmemory), then FLUSHDB; then the replay connection
reads `used_memory` (= baseline, includes that connection; counters
evicted/expired/keyspace_hits/misses are reported relative to it) and sets
maxmemory = --maxmemory, or baseline + --maxmemory-data.

Output (stdout JSON, also --json FILE / --csv FILE): per rep requests, gets,
hits, misses, hit_ratio, evicted_keys, expired_keys, dbsize (= resident keys
at the end, incl. expired-not-yet-deleted), keys_with_ttl, used_memory,
maxmemory, used_memory_baseline, mem_clients_normal (at the end, and
mem_clients_normal_idle after 1.2 s idle, both from INFO memory: client query
+ reply buffers + client structs, counted against maxmemory), oom_errors,
keyspace_hits/misses (server's view, should equal hits/misses), pacing
(lateness percentiles in ms, wall duration vs trace duration, other_cpu_cores =
CPU used meanwhile by processes other than this script and its server); plus
the mean over reps.
"""

import argparse
import csv
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from resp import (Redis, RedisServer, RespError, encode_command, parse_info,  # noqa: E402
                  cpu_snapshot, other_cpu, wait_quiet)

OPS = ("get", "set", "del", "expire", "persist", "incr")


def load_trace(path):
    """-> list of batches: (time_ms, [(op, key, size, ttl_ms), ...])."""
    batches = []
    cur_t, cur = None, None
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        if [h.strip() for h in header[:5]] != ["time_ms", "op", "key", "size", "ttl_ms"]:
            raise SystemExit("bad trace header %r" % header)
        last = float("-inf")
        for row in rd:
            if not row:
                continue
            t = float(row[0])
            op = row[1].strip().lower()
            if op not in OPS:
                raise SystemExit("unknown op %r" % op)
            if t < last:
                raise SystemExit("trace not sorted by time at %r" % row)
            last = t
            req = (op, row[2].encode(), int(row[3] or 0), int(float(row[4] or 0)))
            if t != cur_t:
                cur = []
                batches.append((t, cur))
                cur_t = t
            cur.append(req)
    return batches


def split_unique(reqs):
    """Split a batch into consecutive sub-batches without repeated keys."""
    out, cur, seen = [], [], set()
    for r in reqs:
        if r[1] in seen:
            out.append(cur)
            cur, seen = [], set()
        cur.append(r)
        seen.add(r[1])
    if cur:
        out.append(cur)
    return out


_values = {}


def value(size):
    v = _values.get(size)
    if v is None:
        v = _values[size] = b"v" * size
    return v


def set_cmd(key, size, ttl):
    if ttl > 0:
        return encode_command((b"SET", key, value(size), b"PX", ttl))
    return encode_command((b"SET", key, value(size)))


def primary(req):
    op, key, size, ttl = req
    if op == "get":
        return encode_command((b"GET", key))
    if op == "set":
        return set_cmd(key, size, ttl)
    if op == "del":
        return encode_command((b"DEL", key))
    if op == "expire":
        return encode_command((b"PEXPIRE", key, ttl))
    if op == "persist":
        return encode_command((b"PERSIST", key))
    return encode_command((b"INCR", key))


def wait_until(target):
    while True:
        d = target - time.perf_counter()
        if d <= 0:
            return
        if d > 0.0015:
            time.sleep(d - 0.001)
        # else spin


def replay(r, batches, speed=1.0, progress=False):
    st = dict(requests=0, gets=0, hits=0, misses=0, fills=0, sets=0, dels=0, expires=0,
              persists=0, incrs=0, oom_errors=0, other_errors=0)
    errors = {}
    lateness = []
    t_first = batches[0][0] if batches else 0.0
    start = time.perf_counter() + 0.05
    for bi, (t, reqs) in enumerate(batches):
        target = start + (t - t_first) / 1000.0 / speed
        wait_until(target)
        lateness.append((time.perf_counter() - target) * 1000.0)
        for sub in split_unique(reqs):
            r.sock.sendall(b"".join(primary(q) for q in sub))
            follow = []
            for q in sub:
                rep = r.read_reply()
                op = q[0]
                st["requests"] += 1
                if isinstance(rep, RespError):
                    if str(rep).startswith("OOM"):
                        st["oom_errors"] += 1
                    else:
                        st["other_errors"] += 1
                        errors[str(rep)] = errors.get(str(rep), 0) + 1
                    continue
                if op == "get":
                    st["gets"] += 1
                    if rep is None:
                        st["misses"] += 1
                        follow.append(set_cmd(q[1], q[2], q[3]))
                        st["fills"] += 1
                    else:
                        st["hits"] += 1
                elif op == "set":
                    st["sets"] += 1
                elif op == "del":
                    st["dels"] += 1
                elif op == "expire":
                    st["expires"] += 1
                elif op == "persist":
                    st["persists"] += 1
                elif op == "incr":
                    st["incrs"] += 1
                    if rep == 1 and q[3] > 0:
                        follow.append(encode_command((b"PEXPIRE", q[1], q[3])))
            if follow:
                r.sock.sendall(b"".join(follow))
                for _ in follow:
                    rep = r.read_reply()
                    if isinstance(rep, RespError):
                        if str(rep).startswith("OOM"):
                            st["oom_errors"] += 1
                        else:
                            st["other_errors"] += 1
                            errors[str(rep)] = errors.get(str(rep), 0) + 1
        if progress and bi % 1000 == 0:
            print("  batch %d/%d late %.2f ms" % (bi, len(batches), lateness[-1]), file=sys.stderr)
    wall = time.perf_counter() - start
    st["hit_ratio"] = st["hits"] / st["gets"] if st["gets"] else 0.0
    lat = sorted(lateness)

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))], 3) if lat else 0.0
    st["pacing"] = dict(batches=len(batches),
                        trace_duration_s=round((batches[-1][0] - t_first) / 1000.0 / speed, 3)
                        if batches else 0,
                        wall_duration_s=round(wall, 3),
                        lateness_ms_p50=pct(50), lateness_ms_p90=pct(90), lateness_ms_p99=pct(99),
                        lateness_ms_max=round(lat[-1], 3) if lat else 0.0,
                        frac_batches_late_gt_1ms=round(sum(1 for x in lat if x > 1) / len(lat), 4)
                        if lat else 0.0,
                        frac_batches_late_gt_10ms=round(sum(1 for x in lat if x > 10) / len(lat), 4)
                        if lat else 0.0)
    if errors:
        st["error_texts"] = errors
    return st


def final_stats(r):
    r.send(("DBSIZE",), ("INFO", "memory", "stats", "keyspace", "clients", "server"))
    dbsize = r.read_reply()
    info = parse_info(r.read_reply())
    db0 = info.get("db0", {"keys": 0, "expires": 0})
    out = dict(dbsize=dbsize, keys_with_ttl=db0.get("expires", 0),
               evicted_keys=info["evicted_keys"], expired_keys=info["expired_keys"],
               keyspace_hits=info["keyspace_hits"], keyspace_misses=info["keyspace_misses"],
               used_memory=info["used_memory"], maxmemory=info["maxmemory"],
               maxmemory_policy=info["maxmemory_policy"],
               mem_clients_normal=info["mem_clients_normal"],
               used_memory_startup=info["used_memory_startup"],
               used_memory_dataset=info["used_memory_dataset"],
               total_eviction_exceeded_time_ms=info.get("total_eviction_exceeded_time"),
               connected_clients=info["connected_clients"], hz=info.get("hz"),
               redis_version=info["redis_version"])
    time.sleep(1.2)  # let clientsCron refresh per-client memory accounting
    info2 = parse_info(r.command("INFO", "memory"))
    out["mem_clients_normal_idle"] = info2["mem_clients_normal"]
    out["used_memory_idle"] = info2["used_memory"]
    return out


WARM = [("SELECT", "9"), ("SET", "w", "x", "PX", "100000"), ("GET", "w"), ("PEXPIRE", "w", "100000"),
        ("PERSIST", "w"), ("INCR", "c"), ("DEL", "w", "c"), ("DBSIZE",), ("INFO", "memory"),
        ("CONFIG", "SET", "maxmemory", "0"), ("CONFIG", "GET", "maxmemory"), ("FLUSHDB",)]


def parse_kv(items):
    out = []
    for it in items or []:
        k, v = it.split("=", 1)
        out.append((k, v))
    return out


def one_rep(a, batches, rep):
    srv = None
    cfg = []
    if a.policy:
        cfg.append(("maxmemory-policy", a.policy))
    if a.samples:
        cfg.append(("maxmemory-samples", a.samples))
    if a.hz:
        cfg.append(("hz", a.hz))
    cfg += parse_kv(a.config)
    try:
        if a.port:
            port = a.port
            r = Redis(port=port)
            for k, v in cfg:
                r.command("CONFIG", "SET", k, v)
        else:
            srv = RedisServer(config=cfg).start()
            port = srv.port
            with Redis(port=port) as w:
                w.pipeline(WARM, raise_errors=True)
            time.sleep(0.05)
            r = Redis(port=port)
        base = parse_info(r.command("INFO", "memory", "stats"))
        maxmem = None
        if a.maxmemory is not None:
            maxmem = a.maxmemory
        elif a.maxmemory_data is not None:
            maxmem = base["used_memory"] + a.maxmemory_data
        if maxmem is not None:
            r.command("CONFIG", "SET", "maxmemory", maxmem)
        if a.wait_quiet is not None:
            wait_quiet(a.wait_quiet)
        pids = ["self"] + ([srv.proc.pid] if srv else [])
        c0 = cpu_snapshot(pids)
        st = replay(r, batches, speed=a.speed, progress=a.progress)
        st["pacing"]["other_cpu_cores"] = round(other_cpu(c0, cpu_snapshot(pids)), 3)
        st.update(final_stats(r))
        # counters relative to the start of the replay (warm-up / earlier use excluded)
        for k in ("evicted_keys", "expired_keys", "keyspace_hits", "keyspace_misses"):
            st[k] -= base[k]
        st["used_memory_baseline"] = base["used_memory"]
        st["mem_clients_normal_baseline"] = base["mem_clients_normal"]
        st["rep"] = rep
        r.close()
    finally:
        if srv:
            srv.stop()
    return st


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trace", required=True)
    ap.add_argument("--port", type=int, help="use this running server instead of starting one")
    ap.add_argument("--maxmemory", type=int, help="absolute maxmemory in bytes")
    ap.add_argument("--maxmemory-data", type=int,
                    help="maxmemory = used_memory measured before the replay + this many bytes")
    ap.add_argument("--policy", help="maxmemory-policy, e.g. allkeys-lru")
    ap.add_argument("--samples", type=int, help="maxmemory-samples")
    ap.add_argument("--hz", type=int)
    ap.add_argument("--config", action="append", metavar="NAME=VALUE", help="extra server config")
    ap.add_argument("--reps", type=int, default=1, help="repetitions (fresh server each, own-server mode)")
    ap.add_argument("--speed", type=float, default=1.0, help="time compression factor (2 = twice as fast)")
    ap.add_argument("--json", help="write the result JSON here")
    ap.add_argument("--csv", help="write one CSV row per rep here")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--wait-quiet", type=float, metavar="CORES",
                    help="before each rep wait until other processes use < CORES cores")
    a = ap.parse_args()
    if a.port and a.reps > 1:
        print("note: --reps with --port reuses the same server (no restart)", file=sys.stderr)

    batches = load_trace(a.trace)
    reps = []
    for rep in range(1, a.reps + 1):
        st = one_rep(a, batches, rep)
        reps.append(st)
        p = st["pacing"]
        print("rep %d: hit_ratio=%.4f hits=%d misses=%d evicted=%d dbsize=%d used_memory=%d "
              "maxmemory=%d clients=%d oom=%d late p50/p99/max=%.2f/%.2f/%.2f ms wall=%.2fs/%.2fs "
              "other_cpu=%.2f"
              % (rep, st["hit_ratio"], st["hits"], st["misses"], st["evicted_keys"], st["dbsize"],
                 st["used_memory"], st["maxmemory"], st["mem_clients_normal"], st["oom_errors"],
                 p["lateness_ms_p50"], p["lateness_ms_p99"], p["lateness_ms_max"],
                 p["wall_duration_s"], p["trace_duration_s"], p["other_cpu_cores"]),
              file=sys.stderr, flush=True)
    numeric = [k for k, v in reps[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)
               and k != "rep"]
    mean = {k: statistics.mean(s[k] for s in reps) for k in numeric}
    if len(reps) > 1:
        mean["hit_ratio_stdev"] = statistics.stdev(s["hit_ratio"] for s in reps)
    result = dict(trace=a.trace, policy=a.policy, samples=a.samples, hz=a.hz,
                  maxmemory_arg=a.maxmemory, maxmemory_data_arg=a.maxmemory_data,
                  config=a.config, speed=a.speed, reps=reps, mean=mean)
    text = json.dumps(result, indent=1, sort_keys=False)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    if a.csv:
        cols = ["rep", "requests", "gets", "hits", "misses", "hit_ratio", "evicted_keys", "expired_keys",
                "dbsize", "keys_with_ttl", "used_memory", "maxmemory", "used_memory_baseline",
                "mem_clients_normal", "mem_clients_normal_idle", "oom_errors", "keyspace_hits",
                "keyspace_misses"]
        pcols = ["lateness_ms_p50", "lateness_ms_p99", "lateness_ms_max", "wall_duration_s",
                 "trace_duration_s", "other_cpu_cores"]
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols + pcols)
            for s in reps:
                w.writerow([s[c] for c in cols] + [s["pacing"][c] for c in pcols])


if __name__ == "__main__":
    main()
