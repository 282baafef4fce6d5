//! `docs/workloads.md` cannot drift from the parser: its field tables are
//! generated from the field registry, and every TOML example in it parses.

use ttlsim::workload::parse_workload;
use ttlsim::workload::spec::schema;

const BEGIN: &str = "<!-- BEGIN GENERATED FIELD TABLES -->\n";
const END: &str = "<!-- END GENERATED FIELD TABLES -->";

fn doc_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/docs/workloads.md").to_string()
}

#[test]
fn field_tables_are_generated_from_the_registry() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let (head, rest) = doc.split_once(BEGIN).expect("begin marker");
    let (_, tail) = rest.split_once(END).expect("end marker");
    let want = format!("{head}{BEGIN}{}{END}{tail}", schema::markdown_tables());
    if std::env::var_os("TTLSIM_BLESS").is_some() {
        std::fs::write(doc_path(), &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/workloads.md's field tables are stale: run `TTLSIM_BLESS=1 cargo test --release --test integration workloads_doc::`"
    );
    // Every pattern kind, form and field is in the generated part.
    for p in schema::PATTERNS {
        for f in p.fields {
            assert!(doc.contains(&format!("| `{}` |", f.name)), "{}", f.name);
        }
        assert!(
            doc.contains(&format!("### {}\n", p.kind)),
            "no example for {}",
            p.kind
        );
    }
}

#[test]
fn every_toml_example_parses() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let mut n = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for (i, block) in doc.split("```toml\n").skip(1).enumerate() {
        let text = block.split("```").next().unwrap();
        let w = parse_workload(text, &format!("docs/workloads.md example {}", i + 1))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        kinds.extend(w.patterns.iter().map(|p| p.kind()));
        n += 1;
    }
    assert!(n >= 9, "only {n} examples");
    let all: std::collections::BTreeSet<&str> = schema::PATTERNS.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, all, "every pattern kind has an example");
}
