#!/usr/bin/env python3
"""Generate a synthetic ttlsim trace (CSV: time_ms,op,key,size,ttl_ms).

    python3 scripts/gen_trace.py --out tests/data/trace_zipf_10k.csv \\
        --requests 100000 --keys 10000 --rate 20000 --zipf 0.99 --seed 1

Keys `obj:%06d` ranked by popularity (rank 0 most popular) with Zipf(s)
weights 1/(rank+1)^s. Arrival times: `rate` requests per second, evenly spaced
then floored to integer ms (so ~rate/1000 requests share each millisecond).
Op mix (fractions, the rest is `get`): --p-set, --p-del, --p-expire,
--p-persist, --p-incr. Value size: --size bytes (fixed). TTL: a fraction
--ttl-frac of the keys (chosen by a hash of the key index) gets ttl_ms =
--ttl-ms on get-fills / sets / expires; others 0 (no TTL). incr ops use
separate keys `ctr:%04d` (so cached string values are never INCRed).
"""

import argparse
import bisect
import itertools
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=20000.0, help="requests per second")
    ap.add_argument("--zipf", type=float, default=0.99)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--ttl-frac", type=float, default=0.5)
    ap.add_argument("--ttl-ms", type=int, default=30000)
    ap.add_argument("--p-set", type=float, default=0.05)
    ap.add_argument("--p-del", type=float, default=0.01)
    ap.add_argument("--p-expire", type=float, default=0.005)
    ap.add_argument("--p-persist", type=float, default=0.005)
    ap.add_argument("--p-incr", type=float, default=0.01)
    ap.add_argument("--counters", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    cum = list(itertools.accumulate(1.0 / (r + 1) ** a.zipf for r in range(a.keys)))
    total = cum[-1]
    # ttl by key: deterministic per key
    key_ttl = [a.ttl_ms if random.Random(a.seed * 1000003 + k).random() < a.ttl_frac else 0
               for k in range(a.keys)]
    probs = [("set", a.p_set), ("del", a.p_del), ("expire", a.p_expire),
             ("persist", a.p_persist), ("incr", a.p_incr)]
    with open(a.out, "w") as f:
        f.write("time_ms,op,key,size,ttl_ms\n")
        for i in range(a.requests):
            t = int(i * 1000.0 / a.rate)
            u = rng.random()
            op = "get"
            for name, p in probs:
                if u < p:
                    op = name
                    break
                u -= p
            if op == "incr":
                c = rng.randrange(a.counters)
                f.write("%d,incr,ctr:%04d,0,%d\n" % (t, c, a.ttl_ms if c % 2 else 0))
                continue
            k = bisect.bisect_left(cum, rng.random() * total)
            k = min(k, a.keys - 1)
            ttl = key_ttl[k]
            if op in ("get", "set"):
                f.write("%d,%s,obj:%06d,%d,%d\n" % (t, op, k, a.size, ttl))
            elif op == "expire":
                f.write("%d,expire,obj:%06d,0,%d\n" % (t, k, a.ttl_ms))
            else:
                f.write("%d,%s,obj:%06d,0,0\n" % (t, op, k))


if __name__ == "__main__":
    main()
