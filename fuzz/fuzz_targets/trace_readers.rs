//! Every trace reader: the first byte picks the format (or detection from
//! the content), the rest is the trace; every record is read through the
//! re-basing layer, as a replay reads it, one by one and, for the binary
//! formats, in blocks, which must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ttlsim::workload::trace::{
    open, CsvSpec, Format, Rebased, Rec, RecBatch, TraceSource, BATCH_LEN,
};

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
    // Record by record, as a text trace replays; then, where the format
    // has a compact form, in blocks as a binary one replays: the same
    // requests at the same positions, then the same end or error.
    let Ok(src) = open(&path, format, csv) else {
        return;
    };
    let mut r = Rebased::new(src);
    let mut want = Vec::new();
    let end = loop {
        match r.next_record() {
            Ok(Some(x)) if want.len() < LIMIT => want.push((Rec::of(&x), x.pos)),
            Ok(Some(_)) => break None,
            Ok(None) => break Some("end".to_string()),
            Err(e) => break Some(e.to_string()),
        }
    };
    let _ = r.position();
    let Ok(src) = open(&path, format, csv) else {
        return;
    };
    let mut r = Rebased::new(src);
    let mut b = RecBatch::default();
    let mut got = Vec::new();
    let got_end = loop {
        b.clear();
        match r.next_batch(&mut b) {
            Ok(false) => return,
            Ok(true) if b.is_empty() => break Some("end".to_string()),
            Ok(true) => {
                assert!(b.len() <= BATCH_LEN);
                for i in 0..b.len() {
                    got.push((Some(b.recs[i]), b.pos_of(i)));
                }
                if got.len() >= LIMIT {
                    break None;
                }
            }
            Err(e) => break Some(e.to_string()),
        }
    };
    let n = want.len().min(got.len());
    assert_eq!(got[..n], want[..n], "records differ");
    if end.is_some() && got_end.is_some() {
        assert_eq!(got.len(), want.len(), "record counts differ");
        assert_eq!(got_end, end, "ends differ");
    }
});

/// Records read at most, each way.
const LIMIT: usize = 10_000;
