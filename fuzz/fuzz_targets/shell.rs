//! The shell: redis-cli line splitting, the command layer and the store,
//! fed arbitrary bytes as lines (NULs, long lines, quotes, repeats).
#![no_main]
use libfuzzer_sys::fuzz_target;
use ttlsim::shell::Shell;
use ttlsim::store::Config;

fuzz_target!(|data: &[u8]| {
    let _ = ttlsim::shell::split_args(data);
    let mut sh = Shell::new(Config::default(), 1, 1_700_000_000_000);
    // A repeat prefix could ask for billions of replies: keep each input's
    // work bounded by dropping absurd repeats (the streaming is tested).
    let mut out = Vec::new();
    for line in data.split(|&b| b == b'\n').take(200) {
        // The repeat count as the shell reads it (after quotes and spaces).
        let n: u64 = ttlsim::shell::split_args(line)
            .and_then(|a| a.first().cloned())
            .and_then(|f| String::from_utf8(f).ok())
            .and_then(|s| s.parse::<i64>().ok())
            .map_or(0, |n| n.unsigned_abs());
        if n > 1000 {
            continue;
        }
        out.clear();
        let _ = sh.line_to(line, &mut out);
    }
});
