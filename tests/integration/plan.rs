//! `ttlsim plan`: its answers agree with a fine full-size sweep, and bad
//! objectives are refused before anything runs.

use rayon::prelude::*;
use std::process::Command;
use tempfile::TempDir;
use ttlsim::plan::objective::Catalog;
use ttlsim::plan::search::Scaled;
use ttlsim::sim::Source;
use ttlsim::store::Policy;
use ttlsim::units::Dur;
use ttlsim::workload::{load_workload, Warmup};

use super::common::{exclusive, repo_path};

fn ttlsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ttlsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ttlsim runs")
}

const TARGET: &str = "cache.hit_ratio>=0.8";
const REQUIRE: &str = "session.logged_out_early==0";

/// The plan's answer per policy (empty: none), from plan.csv.
fn answers(csv: &str) -> Vec<(String, Option<u64>)> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (kind, policy, mm) = (col("kind"), col("policy"), col("maxmemory"));
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| matches!(&x[kind], "answer" | "recommended"))
        .map(|x| (x[policy].to_string(), x[mm].parse().ok()))
        .collect()
}

#[test]
fn plan_matches_a_fine_full_sweep_on_mixed() {
    let _one = exclusive();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    // Shortened from 20 minutes so the test's 8 policies × 40 full runs fit.
    let (duration, warmup) = ("8m", "3m");
    let args = [
        "plan",
        "workloads/mixed.toml",
        "--target",
        TARGET,
        "--require",
        REQUIRE,
        "--duration",
        duration,
        "--warmup",
        warmup,
        "--out",
        o,
    ];
    let res = ttlsim(&args);
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        res.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(stdout.contains("Recommended"), "{stdout}");
    let csv = std::fs::read_to_string(out.path().join("plan.csv")).unwrap();
    let answers = answers(&csv);
    assert_eq!(answers.len(), 8, "{csv}");
    assert!(
        answers.iter().any(|a| a.1.is_some()),
        "no policy has an answer:\n{stdout}"
    );

    // The same objectives, judged on full-size runs.
    let mut w = load_workload(&repo_path("workloads/mixed.toml")).unwrap();
    w.duration = Some(Dur::parse(duration).unwrap());
    w.warmup = Warmup::parse(warmup).unwrap();
    let cat = Catalog::of_workload(&w);
    let objectives = cat
        .objectives(&[TARGET.into()], &[REQUIRE.into()], &[])
        .unwrap();
    let fixed = ttlsim::plan::mini::fixed_memory(&w.server);
    let full = Scaled {
        workload: w,
        source: Source::Patterns,
        rate: 1.0,
        fixed,
        draws: Default::default(),
    };
    let peak = full
        .run(Policy::AllKeysLru, 0, &cat)
        .unwrap()
        .obs
        .get("used_memory_peak")
        .unwrap();
    let passes = |p: Policy, m: u64| {
        full.run(p, m, &cat)
            .unwrap()
            .obs
            .failed(&objectives)
            .is_empty()
    };
    for (name, answer) in &answers {
        let p = Policy::parse(name).unwrap();
        match answer {
            None => {
                // No answer: a full run just above the unbounded peak fails too.
                assert!(
                    !passes(p, (peak * 1.02) as u64),
                    "{name}: plan found no answer, but full size passes at the peak"
                );
            }
            Some(a) => {
                // 40 sizes from 15% below the answer to 5% above it; the
                // fine answer is the smallest from which every size passes.
                let sizes: Vec<u64> = (0..40)
                    .map(|i| (*a as f64 * (0.85 + 0.2 * i as f64 / 39.0)) as u64)
                    .collect();
                let ok: Vec<bool> = sizes.par_iter().map(|&m| passes(p, m)).collect();
                let first = (0..40).rev().take_while(|&i| ok[i]).last();
                let Some(i) = first else {
                    panic!("{name}: the fine sweep finds no passing size up to 5% above the plan's {a}");
                };
                assert!(i > 0, "{name}: every size down to 15% below the plan's answer {a} passes: the plan is too high");
                let fine = sizes[i] as f64;
                let err = (*a as f64 - fine) / fine;
                assert!(
                    err.abs() <= 0.05,
                    "{name}: plan {a}, fine sweep {fine}: {:.1}% apart",
                    err * 100.0
                );
            }
        }
    }
}

#[test]
fn bad_objectives_are_refused_before_anything_runs() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().join("p");
    let o = o.to_str().unwrap();
    for (objective, want) in [
        (
            "cash.hit_ratio>=0.8",
            "no namespace `cash`; the workload has: session, verify, rl, cache, user",
        ),
        (
            "cache.hit_rate>=0.8",
            "namespace `cache` has no metric `hit_rate`; it has: hit_ratio",
        ),
        ("hit_ratio>=1.5", "no run can meet it"),
        ("nonsense", "expected NAME OP VALUE"),
    ] {
        let r = ttlsim(&[
            "plan",
            "workloads/mixed.toml",
            "--target",
            objective,
            "--out",
            o,
        ]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{objective} accepted");
        assert!(err.contains(want), "{objective}: {err}");
        assert!(
            !out.path().join("p").exists(),
            "{objective}: plan wrote before refusing"
        );
    }
    let r = ttlsim(&[
        "plan",
        "workloads/mixed.toml",
        "--target",
        "hit_ratio>=0.5",
        "--allow",
        "cache.hit_ratio",
        "--out",
        o,
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("not a harm constraint") && err.contains("rl.wrongly_allowed"),
        "{err}"
    );
    // A target that even an unbounded server misses, refused after the pilot.
    let r = ttlsim(&[
        "plan",
        "workloads/mixed.toml",
        "--target",
        "cache.hit_ratio>=0.99",
        "--duration",
        "4m",
        "--warmup",
        "1m",
        "--out",
        o,
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains(
            "no maxmemory can meet: cache.hit_ratio>=0.99 (with no memory limit it reaches 0.8"
        ),
        "{err}"
    );
}

/// The sample rate keeps enough of the keys resident at the unbounded peak,
/// not only of the keys declared: 20,000 lock resources of which ~130 are
/// held at once cannot be miniaturised (plan runs them at full size), and
/// 50,000 rate-limited users of whom ~14,000 have a live counter are
/// sampled at 1/4 rather than the 1/8 the declared count allows. For a
/// volatile policy, enough of the keys with a TTL: ~2,600 of persistent's
/// ~89,000 keys have one, so volatile-lru runs at full size where
/// allkeys-lru runs at 1/16.
#[test]
fn the_sample_rate_follows_the_resident_keys() {
    let _x = exclusive();
    let tmp = tempfile::tempdir().unwrap();
    for (file, target, policy, rate) in [
        (
            "workloads/locks.toml",
            "lock.lost_ratio<=0.5",
            "allkeys-lru",
            "sample rate 1 (full size)",
        ),
        (
            "workloads/rate_limit.toml",
            "rl.wrong_ratio<=0.5",
            "allkeys-lru",
            "sample rate 1/4 ",
        ),
        (
            "workloads/persistent.toml",
            "hit_ratio>=0.01",
            "allkeys-lru",
            "sample rate 1/16 ",
        ),
        (
            "workloads/persistent.toml",
            "hit_ratio>=0.01",
            "volatile-lru",
            "sample rate 1 (full size)",
        ),
    ] {
        let out = tmp
            .path()
            .join(format!("{}-{policy}", file.replace('/', "_")));
        let o = ttlsim(&[
            "plan",
            file,
            "--target",
            target,
            "--maxmemory-policy",
            policy,
            "--seed",
            "1",
            "--points",
            "2",
            "--no-verify",
            "--out",
            out.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let head = text.lines().next().unwrap_or("");
        assert!(head.contains(rate), "{file}: {head}");
        assert!(
            head.contains("keys resident at the unbounded peak"),
            "{head}"
        );
    }
}

/// Plans `file` for one seed with no checks; its stdout and out folder.
fn plan_seed_1(file: &str, target: &str, policy: &str, points: &str) -> (String, TempDir) {
    let out = tempfile::tempdir().unwrap();
    let o = ttlsim(&[
        "plan",
        file,
        "--target",
        target,
        "--maxmemory-policy",
        policy,
        "--seed",
        "1",
        "--points",
        points,
        "--no-verify",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (String::from_utf8_lossy(&o.stdout).into_owned(), out)
}

/// The `cols` of plan.csv's miniature rows in `out`.
fn mini_rows(out: &TempDir, cols: &[&str]) -> Vec<Vec<String>> {
    let csv = std::fs::read_to_string(out.path().join("plan.csv")).unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (kind, idx): (usize, Vec<usize>) = (col("kind"), cols.iter().map(|c| col(c)).collect());
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| &x[kind] == "mini")
        .map(|x| idx.iter().map(|&i| x[i].to_string()).collect())
        .collect()
}

/// A volatile policy evicts only among the keys with a TTL: on persistent
/// (~2,900 of ~89,000 resident keys have one) the all-keys policies keep
/// the plan's 1/16 while the volatile ones run at full size, and the plan
/// says so; plan.csv's rows carry each run's rate.
#[test]
fn volatile_policies_run_at_the_rate_of_their_ttl_keys() {
    let _x = exclusive();
    let (text, out) = plan_seed_1(
        "workloads/persistent.toml",
        "hit_ratio>=0.01",
        "allkeys-lru,volatile-lru",
        "2",
    );
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap_or("").contains("sample rate 1/16 "),
        "{text}"
    );
    assert!(
        lines.next().unwrap_or("").contains(
            "volatile-lru evict only among the ~2912 keys with a TTL: their miniatures ran at rate 1 (full size)."
        ),
        "{text}"
    );
    let mut seen = (0, 0);
    for row in mini_rows(&out, &["policy", "sample_rate"]) {
        let rate: f64 = row[1].parse().unwrap();
        if row[0] == "volatile-lru" {
            assert_eq!(rate, 1.0, "{row:?}");
            seen.0 += 1;
        } else {
            assert!(rate < 1.0, "{row:?}");
            seen.1 += 1;
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0, "{seen:?}");
}

/// The smallest sizes of a curve hold few keys: there the miniature runs at
/// a larger rate (rate_limit at 1/4 read up to 5 points high at sizes
/// holding about 250 sampled keys), and the plan says so.
#[test]
fn small_sizes_run_at_a_larger_rate() {
    let _x = exclusive();
    let (text, out) = plan_seed_1(
        "workloads/rate_limit.toml",
        "rl.wrong_ratio<=0.5",
        "allkeys-lru",
        "8",
    );
    assert!(text.contains("ran at a larger rate"), "{text}");
    let mut minis: Vec<(u64, f64)> = mini_rows(&out, &["maxmemory", "sample_rate"])
        .iter()
        .map(|x| (x[0].parse().unwrap(), x[1].parse().unwrap()))
        .collect();
    minis.sort_by_key(|m| m.0);
    let (smallest, largest) = (minis[0], minis[minis.len() - 1]);
    assert_eq!(largest.1, 0.25, "{minis:?}");
    assert!(smallest.1 > 0.25, "{minis:?}");
    // Never smaller at a smaller size.
    assert!(minis.windows(2).all(|w| w[0].1 >= w[1].1), "{minis:?}");
}
