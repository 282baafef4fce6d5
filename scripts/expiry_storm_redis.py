#!/usr/bin/env python3
"""Expiry-storm experiment on a real redis-server 7.0 (fixture for ttlsim).

    python3 scripts/expiry_storm_redis.py                      # 4 configs x 3 reps, ~3.5 min
    python3 scripts/expiry_storm_redis.py --configs 10:1 --reps 1 --out-prefix /tmp/storm

Each run: a fresh redis-server (default config), `CONFIG SET hz H
active-expire-effort E`, then 200,000 keys `storm:%08d` = "x" are loaded
(pipelined) with `SET k x PXAT t0+offset_i`, t0 = server TIME + 2000 ms.
offset_i comes from random.Random(42): randint(1000, 10000) ms (inclusive),
written to tests/data/storm_offsets_seed42.csv in key order (row i = key i).
The keys are never touched again. From t0 to t0+12 s, every 100 ms, the
pipeline [TIME, INFO keyspace stats] is sent on one connection; t_ms is the
server's TIME minus t0 (integer ms, the server's own mstime at the sample).
live = #keys with expire >= now_ms (Redis: a key is expired iff now > when),
stale = keys - live.

Outputs (tests/data/):
  storm_offsets_seed42.csv     expire_offset_ms
  storm_redis_timeseries.csv   config,rep,t_ms,keys,live,stale,expired_keys,cap_reached,cpu_ms
  storm_redis_summary.csv      config,rep,peak_stale,peak_stale_t_ms,mean_extra_lifetime_ms,
                               expired_keys_end,cap_reached_end,cpu_ms_end,keys_end,loadavg_1m,
                               other_cpu_cores  (rep = 1..R per run, 'mean' = average over runs)
other_cpu_cores: CPU used during the sampling window by every process other
than this script and its redis-server (from /proc), a noise indicator; runs
above --max-other-cpu (default 0.15 cores) are repeated, and each run first
waits until the machine is quiet.
mean_extra_lifetime_ms = trapezoid integral of stale dt over the samples / 200000.

The sampler adds one client event every 100 ms (each wakes the event loop and
so runs beforeSleep's fast expire attempt); a simulator reproducing this should
model the same 10 requests/s.
"""

import argparse
import bisect
import csv
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from resp import Redis, RedisServer, parse_info, cpu_snapshot, other_cpu, wait_quiet  # noqa: E402

ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "tests", "data")

NKEYS = 200_000
SEED = 42
LEAD_MS = 2000
SAMPLE_MS = 100
DURATION_MS = 12_000


def make_offsets(n=NKEYS, seed=SEED):
    rng = random.Random(seed)
    return [rng.randint(1000, 10000) for _ in range(n)]


def server_ms(r):
    s, us = r.command("TIME")
    return int(s) * 1000 + int(us) // 1000


def one_run(hz, effort, offsets, rep, verbose=True):
    sorted_off = sorted(offsets)
    with RedisServer() as srv:
        r = Redis(port=srv.port)
        r.command("CONFIG", "SET", "hz", hz, "active-expire-effort", effort)
        r.command("CONFIG", "RESETSTAT")
        t0 = server_ms(r) + LEAD_MS
        # load, pipelined, in chunks
        chunk = 10000
        for start in range(0, NKEYS, chunk):
            buf = []
            for i in range(start, min(NKEYS, start + chunk)):
                at = b"%d" % (t0 + offsets[i])
                buf.append(b"*5\r\n$3\r\nSET\r\n$14\r\nstorm:%08d\r\n$1\r\nx\r\n$4\r\nPXAT\r\n$%d\r\n%s\r\n"
                           % (i, len(at), at))
            r.sock.sendall(b"".join(buf))
            n = len(buf)
            got = r.rfile.read(5 * n)
            if got != b"+OK\r\n" * n:
                raise RuntimeError("load failed: %r" % got[:100])
        loaded_at = server_ms(r) - t0
        if loaded_at >= 1000:
            raise RuntimeError("loading ended %d ms after t0, keys may have expired" % loaded_at)
        info = parse_info(r.command("INFO", "keyspace"))
        assert info["db0"]["keys"] == NKEYS and info["db0"]["expires"] == NKEYS, info
        load1 = os.getloadavg()[0]
        pids = ["self", srv.proc.pid]
        cpu_a = cpu_snapshot(pids)

        samples = []
        base = time.time() * 1000.0  # local clock == server clock (same machine)
        # align local schedule with server t0
        skew = server_ms(r) - base
        for k in range(DURATION_MS // SAMPLE_MS + 1):
            target = t0 + k * SAMPLE_MS - skew  # local ms
            while True:
                now = time.time() * 1000.0
                d = target - now
                if d <= 0:
                    break
                time.sleep(d / 1000.0 if d > 2 else d / 2000.0)
            r.send(("TIME",), ("INFO", "keyspace", "stats"))
            ts, tus = r.read_reply()
            st = parse_info(r.read_reply())
            t_abs = int(ts) * 1000 + int(tus) // 1000
            keys = st["db0"]["keys"] if "db0" in st else 0
            # live: expire >= now  <=>  t0 + off >= t_abs  <=>  off >= t_abs - t0
            live = NKEYS - bisect.bisect_left(sorted_off, t_abs - t0)
            samples.append(dict(t_ms=t_abs - t0, keys=keys, live=live, stale=keys - live,
                                expired_keys=st["expired_keys"],
                                cap_reached=st["expired_time_cap_reached_count"],
                                cpu_ms=st["expire_cycle_cpu_milliseconds"]))
        r.close()
        oc = other_cpu(cpu_a, cpu_snapshot(pids))
    s = summarize(samples)
    s["loadavg_1m"] = round((load1 + os.getloadavg()[0]) / 2, 2)
    s["other_cpu_cores"] = round(oc, 3)
    if verbose:
        print("hz=%d effort=%d rep=%d loaded %+d ms rel t0; peak_stale=%d @%d ms mean_extra=%.1f ms "
              "expired=%d cap=%d cpu=%d ms keys_end=%d load=%.2f other_cpu=%.2f cores" % (
                  hz, effort, rep, loaded_at, s["peak_stale"], s["peak_stale_t_ms"],
                  s["mean_extra_lifetime_ms"], s["expired_keys_end"], s["cap_reached_end"],
                  s["cpu_ms_end"], s["keys_end"], s["loadavg_1m"], s["other_cpu_cores"]), flush=True)
    for smp in samples:
        if smp["stale"] < 0:
            print("WARNING negative stale %r" % smp, file=sys.stderr)
    return samples, s


def summarize(samples):
    peak = max(samples, key=lambda x: x["stale"])
    integ = 0.0
    for a, b in zip(samples, samples[1:]):
        integ += (a["stale"] + b["stale"]) / 2.0 * (b["t_ms"] - a["t_ms"])
    last = samples[-1]
    return dict(peak_stale=peak["stale"], peak_stale_t_ms=peak["t_ms"],
                mean_extra_lifetime_ms=integ / NKEYS, expired_keys_end=last["expired_keys"],
                cap_reached_end=last["cap_reached"], cpu_ms_end=last["cpu_ms"], keys_end=last["keys"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="10:1,10:10,100:1,100:10", help="hz:effort list")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out-prefix", default=os.path.join(DATA, "storm_redis"))
    ap.add_argument("--max-other-cpu", type=float, default=0.15,
                    help="wait for / redo runs while other processes use more cores than this")
    ap.add_argument("--attempts", type=int, default=4, help="max tries per run when noisy")
    ap.add_argument("--update", action="store_true",
                    help="keep rows of other configs already in the output files, replace only "
                         "the configs run now")
    a = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    offsets = make_offsets()
    with open(os.path.join(DATA, "storm_offsets_seed42.csv"), "w", newline="") as f:
        f.write("expire_offset_ms\n")
        f.write("".join("%d\n" % o for o in offsets))

    configs = [tuple(int(x) for x in c.split(":")) for c in a.configs.split(",")]
    ts_rows, sum_rows = [], []
    fields = ["peak_stale", "peak_stale_t_ms", "mean_extra_lifetime_ms", "expired_keys_end",
              "cap_reached_end", "cpu_ms_end", "keys_end", "loadavg_1m", "other_cpu_cores"]
    for hz, effort in configs:
        name = "hz%d_effort%d" % (hz, effort)
        per = []
        for rep in range(1, a.reps + 1):
            for attempt in range(a.attempts):
                wait_quiet(a.max_other_cpu)
                samples, s = one_run(hz, effort, offsets, rep)
                if s["other_cpu_cores"] <= a.max_other_cpu:
                    break
                print("  noisy run (other processes used %.2f cores), repeating"
                      % s["other_cpu_cores"], flush=True)
            per.append(s)
            for smp in samples:
                ts_rows.append([name, rep, smp["t_ms"], smp["keys"], smp["live"], smp["stale"],
                                smp["expired_keys"], smp["cap_reached"], smp["cpu_ms"]])
            sum_rows.append([name, rep] + [("%.1f" % s[k]) if isinstance(s[k], float) else s[k]
                                           for k in fields])
        sum_rows.append([name, "mean"] + ["%.2f" % (sum(p[k] for p in per) / len(per)) for k in fields])
    if a.update:
        names = {"hz%d_effort%d" % c for c in configs}
        order = ["hz%d_effort%d" % c for c in configs]
        for suffix, rows in (("_timeseries.csv", ts_rows), ("_summary.csv", sum_rows)):
            try:
                with open(a.out_prefix + suffix, newline="") as f:
                    old = [row for row in list(csv.reader(f))[1:] if row[0] not in names]
            except FileNotFoundError:
                old = []
            canon = ["hz%d_effort%d" % (h, e) for h in (10, 100) for e in (1, 10)]
            order = list(dict.fromkeys(canon + [row[0] for row in old] + order))
            merged = old + rows
            merged.sort(key=lambda row: order.index(row[0]))  # stable: keeps rep order
            rows[:] = merged
    with open(a.out_prefix + "_timeseries.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["config", "rep", "t_ms", "keys", "live", "stale", "expired_keys", "cap_reached",
                    "cpu_ms"])
        w.writerows(ts_rows)
    with open(a.out_prefix + "_summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["config", "rep"] + fields)
        w.writerows(sum_rows)
    for row in sum_rows:
        if row[1] == "mean":
            print(",".join(str(x) for x in row))


if __name__ == "__main__":
    main()
