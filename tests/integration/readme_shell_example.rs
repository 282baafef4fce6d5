//! README.md's `ttlsim shell` example must print what README.md says it
//! prints (and what redis-cli prints against a real server).

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn readme_shell_example_output_is_true() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let script_start = readme
        .find("cargo run --release -- shell <<'EOF2'\n")
        .expect("the shell example")
        + "cargo run --release -- shell <<'EOF2'\n".len();
    let script_end = script_start + readme[script_start..].find("EOF2\n").unwrap();
    let script = &readme[script_start..script_end];
    let out_start =
        script_end + readme[script_end..].find("```text\n").unwrap() + "```text\n".len();
    let out_end = out_start + readme[out_start..].find("```").unwrap();
    let expected = &readme[out_start..out_end];

    let mut child = Command::new(env!("CARGO_BIN_EXE_ttlsim"))
        .arg("shell")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}
