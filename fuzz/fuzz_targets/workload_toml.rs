//! The workload reader (TOML, patterns, distributions) and the `[sweep]`
//! table split, fed arbitrary text; a workload that parses is also
//! estimated (the budget check must not panic on any value).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((_, rest)) = ttlsim::sweep::cli::split_sweep_table(text, "fuzz.toml") {
        if let Ok(w) = ttlsim::workload::parse_workload(&rest, "fuzz.toml") {
            let _ = ttlsim::limits::estimate(&w);
            let _ = ttlsim::limits::check_budget(&w, false);
        }
    }
});
