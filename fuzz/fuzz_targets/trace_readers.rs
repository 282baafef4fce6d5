//! Every trace reader: the first byte picks the format (or detection from
//! the content), the rest is the trace; every record is read through the
//! re-basing layer, as a replay reads it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ttlsim::workload::trace::{open, CsvSpec, Format, Rebased, TraceSource};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let formats = [
        None,
        Some(Format::Ttlsim),
        Some(Format::Monitor),
        Some(Format::OracleGeneral),
        Some(Format::Twr),
        Some(Format::TwrNs),
        Some(Format::Twitter),
        Some(Format::Csv),
    ];
    let format = formats[pick as usize % formats.len()];
    let spec = CsvSpec::parse("time=1,key=2,op=3,size=4,ttl=5,header=yes").ok();
    let path = std::env::temp_dir().join(format!("ttlsim-fuzz-{}.trace", std::process::id()));
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let csv = if format == Some(Format::Csv) { spec.as_ref() } else { None };
    if let Ok(src) = open(&path, format, csv) {
        let mut r = Rebased::new(src);
        for _ in 0..10_000 {
            match r.next_record() {
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        let _ = r.position();
    }
});
