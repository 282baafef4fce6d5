//! Redis's approximated policies beside the exact references on one seeded
//! cache-aside workload (Zipf 0.99, 10% of keys fit): Belady's optimum bounds
//! every policy from above; sampled LRU lands near exact LRU when requests are
//! slow enough for the 1-second LRU clock to tell them apart, and drifts to
//! random when they are not (docs/redis-facts.md §8.1).

use ttlsim::fidelity::cache_aside::{run, zipf_requests};
use ttlsim::store::{Config, Policy};

#[test]
fn belady_bounds_every_policy_and_sampled_lru_is_near_exact_lru() {
    let requests = zipf_requests(20_000, 0.99, 200_000, 5);
    let ratio_at = |policy: Policy, rate: u64| {
        let cfg = Config {
            policy,
            // About 2,000 keys of 100 B: 10% of the key space.
            maxmemory: 940_096 + 2_000 * 186,
            ..Config::default()
        };
        run(cfg, 1, &requests, rate, 100).hit_ratio()
    };
    let ratio = |policy: Policy| ratio_at(policy, 50_000);
    let policies = [
        Policy::Belady,
        Policy::ExactLru,
        Policy::ExactLfu,
        Policy::Fifo,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
    ];
    let results: Vec<(Policy, f64)> = policies.iter().map(|&p| (p, ratio(p))).collect();
    for (p, r) in &results {
        println!("{:<14} {:.4}", p.name(), r);
    }
    let belady = results[0].1;
    for &(p, r) in &results[1..] {
        assert!(belady >= r, "belady {belady} below {} {r}", p.name());
    }
    let get = |p: Policy| results.iter().find(|(q, _)| *q == p).unwrap().1;
    // 50k requests/s: 200k requests share 4 LRU stamps, sampled LRU ≈ random.
    let (lru_fast, exact, random) = (
        get(Policy::AllKeysLru),
        get(Policy::ExactLru),
        get(Policy::AllKeysRandom),
    );
    assert!((lru_fast - random).abs() < (lru_fast - exact).abs());
    // 200 requests/s: stamps are distinct enough for sampled LRU to track LRU.
    let lru_slow = ratio_at(Policy::AllKeysLru, 200);
    let exact_slow = ratio_at(Policy::ExactLru, 200);
    println!("at 200/s: allkeys-lru {lru_slow:.4}, exact-lru {exact_slow:.4}");
    assert!((lru_slow - exact_slow).abs() < 0.03);
    assert!(get(Policy::ExactLru) > get(Policy::Fifo));
    assert!(get(Policy::ExactLfu) > get(Policy::AllKeysRandom));
}
