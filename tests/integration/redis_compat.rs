//! The same command script through `redis-cli --no-raw` against a real
//! redis-server 7 and through `ttlsim shell` must print the same lines.

use crate::common::{repo_path, RedisServer};
use std::process::{Command, Stdio};

/// redis-cli prints `(1.00s)`-style timings after slow commands; they are not
/// replies.
fn drop_timings(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with('(') && t.ends_with("s)") && t[1..t.len() - 2].parse::<f64>().is_ok())
        })
        .map(str::to_string)
        .collect()
}

fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> String {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{cmd:?} failed");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn shell_matches_redis_cli_on_the_compat_script() {
    let script = std::fs::read(repo_path("tests/redis/compat.redis")).unwrap();
    let commands = script
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert!(commands >= 200, "the script has only {commands} commands");
    let Some(server) = RedisServer::start(&[]) else {
        return;
    };
    let real = run_with_stdin(
        Command::new("redis-cli").args(["--no-raw", "-p", &server.port.to_string()]),
        &script,
    );
    let ours = run_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_ttlsim")).arg("shell"),
        &script,
    );
    let (real, ours) = (drop_timings(&real), drop_timings(&ours));
    for (i, (r, o)) in real.iter().zip(&ours).enumerate() {
        assert_eq!(
            o,
            r,
            "output line {} differs (redis-cli left, ttlsim right swapped: ours={o:?} redis={r:?})",
            i + 1
        );
    }
    assert_eq!(ours.len(), real.len(), "different number of output lines");
}
