//! `ttlsim report` on the committed CSV of a small sweep draws every chart:
//! valid PNGs of the expected size that are not blank.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ttlsim");

fn decode(path: &Path) -> (u32, u32, usize) {
    let dec = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bpp = info.line_size / info.width as usize;
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(bpp).collect();
    (info.width, info.height, colours.len())
}

/// A temporary copy of the committed sweep CSVs.
fn fixture_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/report_fixture");
    for f in ["runs.csv", "timeseries.csv", "expiry_lag.csv"] {
        std::fs::copy(fixture.join(f), tmp.path().join(f)).unwrap();
    }
    tmp
}

#[test]
fn report_draws_every_chart_from_the_committed_csv() {
    let tmp = fixture_copy();
    let out = Command::new(BIN)
        .args(["report", "--target", "0.6"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("not drawn"), "{stdout}");

    let pngs: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    let has = |prefix: &str| pngs.iter().any(|p| p.starts_with(prefix));
    for kind in [
        "hit_ratio_vs_maxmemory",
        "hit_ratio_vs_",
        "memory_over_time",
        "expiry_lag",
        "outcomes_",
        "heatmap_ttl_memory",
    ] {
        assert!(has(kind), "no {kind}*.png among {pngs:?}");
    }
    assert!(pngs
        .iter()
        .any(|p| p.starts_with("hit_ratio_vs_") && p.contains("ttl")));
    let index = std::fs::read_to_string(tmp.path().join("index.html")).unwrap();
    for p in &pngs {
        let (w, h, colours) = decode(&tmp.path().join(p));
        assert!(
            (900..=2000).contains(&w) && (450..=4000).contains(&h),
            "{p}: {w}×{h}"
        );
        assert!(colours > 50, "{p} looks blank: {colours} colours");
        assert!(
            index.contains(&format!("src=\"{p}\"")),
            "index.html does not show {p}"
        );
    }
    assert!(index.contains("Best policy at each memory size"));
    assert!(index.contains("Cheapest memory with hit ratio ≥ 0.60"));
}

#[test]
fn report_marks_reference_policies() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/report_fixture");
    for f in ["timeseries.csv", "expiry_lag.csv"] {
        std::fs::copy(fixture.join(f), tmp.path().join(f)).unwrap();
    }
    // The fixture's volatile-ttl runs, relabelled as the reference policy sieve.
    let runs = std::fs::read_to_string(fixture.join("runs.csv")).unwrap();
    std::fs::write(
        tmp.path().join("runs.csv"),
        runs.replace(",volatile-ttl,", ",sieve,"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["report", "--target", "0.6"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = std::fs::read_to_string(tmp.path().join("index.html")).unwrap();
    assert!(
        index.contains("sieve (ref)"),
        "index.html does not mark sieve"
    );
    assert!(!index.contains("allkeys-lru (ref)"));
    let (w, h, colours) = decode(&tmp.path().join("hit_ratio_vs_maxmemory.png"));
    assert!(
        w >= 900 && h >= 450 && colours > 50,
        "{w}×{h}, {colours} colours"
    );
}

#[test]
fn report_refuses_a_policy_or_run_that_is_not_in_the_sweep() {
    let tmp = fixture_copy();
    let report = |extra: &[&str]| {
        let out = Command::new(BIN)
            .arg("report")
            .arg(tmp.path())
            .args(extra)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{extra:?} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_eq!(
        report(&["--policy", "allkeys-lfu"]).trim_end(),
        "error: --policy allkeys-lfu: this sweep has no run with that policy; it has allkeys-lru, volatile-lru, volatile-ttl"
    );
    assert_eq!(
        report(&["--run", "3,99"]).trim_end(),
        "error: --run 99: not in this sweep; its run_ids are 0 to 53"
    );
    assert!(!tmp.path().join("index.html").exists(), "nothing drawn");
}
