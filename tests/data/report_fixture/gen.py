"""Synthetic sweep output in the agreed CSV schema, to develop the report against
before the engine lands. Deterministic (fixed seed). Replaced by a real sweep later."""
import math, random

POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "volatile-lru"]
MEM = [8 << 20, 16 << 20, 24 << 20, 32 << 20]
TTL = [60, 300, 900]
SEEDS = [1, 2]
NS = ["session", "cache", "rl"]
rng = random.Random(7)

core = "seed,duration_ms,warmup,hz,active_expire_effort,maxmemory,maxmemory_policy,maxmemory_samples,maxmemory_eviction_tenacity,lfu_log_factor,lfu_decay_time".split(",")
metrics = "requests,hits,misses,hit_ratio,misses_cold,misses_expired,misses_evicted,evicted_keys,evicted_premature,expired_keys,expired_lazy,expired_active,oom_rejections,used_memory_mean,used_memory_p99,used_memory_peak,live_memory_mean,stale_keys_peak,stale_memory_mean,stale_memory_peak,expiry_lag_mean_ms,expiry_lag_p50_ms,expiry_lag_p99_ms,expiry_lag_max_ms,never_reclaimed_keys,expire_time_cap_reached,blocked_ms_max,blocked_ms_per_s,sim_ops".split(",")
header = ["run_id", "workload"] + core + ["param_session_ttl_s", "param_cache_ttl_s"] + metrics + [f"{n}_hit_ratio" for n in NS] + ["session_logged_out_early", "session_expired_idle", "rl_wrongly_allowed", "cache_origin_fetches"]
runs, ts, lat, perf = [",".join(header)], ["run_id,time_ms,metric,namespace,value"], ["run_id,kind,lag_ms_low,lag_ms_high,count"], ["run_id,wall_ms,sim_ops,sim_ops_per_sec"]
rid = 0
quality = {"noeviction": 0.0, "allkeys-lru": 1.0, "allkeys-lfu": 1.05, "volatile-lru": 0.7}
for pol in POLICIES:
    for mem in MEM:
        for ttl in TTL:
            for seed in SEEDS:
                need = 20e6 + ttl * 20e3  # unbounded working set grows with TTL
                frac = min(1.0, mem / need)
                base = 0.55 + 0.3 * (1 - math.exp(-ttl / 300))
                hr = base * (frac ** (0.35 / (0.3 + quality[pol]))) + rng.gauss(0, 0.006)
                if pol == "noeviction" and frac < 1:
                    hr *= 0.8 + 0.2 * frac
                req = 200000
                hits = int(req * hr); misses = req - hits
                ev = 0 if pol == "noeviction" or frac >= 1 else int((1 - frac) * 40000 * (1 + rng.random() * 0.05))
                oom = int((1 - frac) * 30000) if pol == "noeviction" else 0
                exp = int(req * 0.1 * 300 / ttl)
                used = min(mem, need) * (0.97 if frac < 1 else 1)
                stale = used * 0.06
                m = dict(requests=req, hits=hits, misses=misses, hit_ratio=f"{hits/req:.6f}", misses_cold=int(misses*0.3), misses_expired=int(misses*0.4),
                         misses_evicted=misses - int(misses*0.3) - int(misses*0.4), evicted_keys=ev, evicted_premature=int(ev*0.8), expired_keys=exp,
                         expired_lazy=exp//4, expired_active=exp-exp//4, oom_rejections=oom, used_memory_mean=int(used*0.9), used_memory_p99=int(used*0.99),
                         used_memory_peak=int(used), live_memory_mean=int(used*0.8), stale_keys_peak=int(stale/300), stale_memory_mean=int(stale*0.7),
                         stale_memory_peak=int(stale), expiry_lag_mean_ms="45.2", expiry_lag_p50_ms=20, expiry_lag_p99_ms=310, expiry_lag_max_ms=900,
                         never_reclaimed_keys=rng.randint(0, 40), expire_time_cap_reached=rng.randint(0, 3), blocked_ms_max="1.25", blocked_ms_per_s="0.4", sim_ops=req + 2000)
                row = [rid, "mixed", seed, 120000, 10000, 10, 1, mem, pol, 5, 10, 10, 1, 1800, ttl] + [m[k] for k in metrics]
                row += [f"{min(1, hr * f):.6f}" for f in (1.08, 0.95, 0.99)]
                early = 0 if pol == "noeviction" else int(3000 * (1 - frac) * (1.5 if pol.startswith("allkeys") else 0.6))
                row += [early, 900 + rng.randint(0, 50), int(5000 * (1 - frac)) if pol.startswith("allkeys") else 0, misses // 2]
                runs.append(",".join(map(str, row)))
                for i in range(1, 13):
                    t = i * 10000
                    fill = min(1, i / 4)
                    u = used * fill * (0.95 + 0.05 * math.sin(i + seed))
                    s = stale * fill * (0.7 + 0.3 * math.sin(i * 1.3))
                    for name, v in [("keys", int(u / 300)), ("stale_keys", int(s / 300)), ("used_memory", int(u)), ("live_memory", int(u - s - 900000)), ("stale_memory", int(s)), ("hits", hits // 12), ("misses", misses // 12)]:
                        ts.append(f"{rid},{t},{name},,{v}")
                    ts.append(f"{rid},{t},hits,session,{hits // 36}")
                for kind, scale in (("active", 60), ("lazy", 800)):
                    lo = 0
                    for hi in [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]:
                        c = int(exp * 0.5 * (math.exp(-lo / scale) - math.exp(-hi / scale)))
                        if c:
                            lat.append(f"{rid},{kind},{lo},{hi},{c}")
                        lo = hi
                perf.append(f"{rid},{rng.randint(100, 300)},{req + 2000},{rng.randint(500000, 900000)}")
                rid += 1
for name, lines in (("runs", runs), ("timeseries", ts), ("latency", lat), ("perf", perf)):
    with open(f"{name}.csv", "w") as f:
        f.write("\n".join(lines) + "\n")
