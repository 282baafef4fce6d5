//! The bad-workload corpus: every `tests/bad_workloads/*.toml` is refused
//! with exactly the message in its `.expected` file (file, line, column,
//! field path, what was expected and what was found). `TTLSIM_BLESS=1`
//! rewrites the `.expected` files from the current messages; review the diff.

use std::path::Path;

use ttlsim::workload::parse_workload;

#[test]
fn every_bad_workload_is_refused_with_its_exact_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_workloads");
    let bless = std::env::var_os("TTLSIM_BLESS").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} cases", files.len());
    let mut wrong = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let src = std::fs::read_to_string(path).unwrap();
        let got = match parse_workload(&src, name) {
            Ok(_) => format!("{name}: accepted"),
            Err(e) => e.to_string(),
        };
        let exp_path = path.with_extension("expected");
        if bless {
            std::fs::write(&exp_path, format!("{got}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&exp_path)
            .unwrap_or_else(|_| panic!("{} is missing", exp_path.display()));
        if expected.trim_end() != got {
            wrong.push(format!(
                "{name}\n  expected: {}\n  got:      {got}",
                expected.trim_end()
            ));
        }
        // Every message names its file and a position, and has no serde words.
        assert!(got.starts_with(&format!("{name}:")), "{got}");
        for jargon in ["tagged enum", "variant", "invalid type", "serde"] {
            assert!(!got.contains(jargon), "jargon `{jargon}`: {got}");
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong messages:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
