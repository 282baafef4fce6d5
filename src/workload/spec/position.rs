//! Locating errors in a workload file's text: line and column of a byte
//! offset, and the hand-made scans that find the line setting a key or
//! holding a value, and the `[server]` / `[[pattern]]` headers.

/// 1-based line and column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Byte offset of the line that sets `key` (`key =`, `"key" =`) at or after
/// `from`, before the next table header that follows `from`'s line.
pub(super) fn find_key(src: &str, from: usize, key: &str) -> Option<usize> {
    let mut off = src[..from.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut first = true;
    for line in src[off..].split_inclusive('\n') {
        let t = line.trim_start();
        if !first && t.starts_with('[') {
            return None;
        }
        first = false;
        let rest = t
            .strip_prefix(key)
            .or_else(|| t.strip_prefix(&format!("\"{key}\"")));
        if let Some(rest) = rest {
            if rest.trim_start().starts_with('=') {
                return Some(off + (line.len() - t.len()));
            }
        }
        // Inline tables: `arrival = { kind = "poisson", rate = -1 }`.
        if let Some(i) = t
            .find(&format!(" {key} ="))
            .or_else(|| t.find(&format!("{{{key} =")))
        {
            return Some(off + (line.len() - t.len()) + i + 1);
        }
        off += line.len();
    }
    None
}

/// The line at or after `from` (up to the next table header) whose value
/// contains `tok`: its offset and its key.
pub(super) fn find_value(src: &str, from: usize, tok: &str) -> Option<(usize, String)> {
    let mut off = src[..from.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut first = true;
    for line in src[off..].split_inclusive('\n') {
        let t = line.trim_start();
        if !first && t.starts_with('[') {
            return None;
        }
        first = false;
        if let Some((key, value)) = t.split_once('=') {
            if value.contains(tok) && !t.starts_with('#') {
                return Some((
                    off + (line.len() - t.len()),
                    key.trim().trim_matches('"').to_string(),
                ));
            }
        }
        off += line.len();
    }
    None
}

/// Offset of the `n`-th (0-based) `[[pattern]]` header.
pub(super) fn pattern_header(src: &str, n: usize) -> Option<usize> {
    let mut off = 0;
    let mut seen = 0;
    for line in src.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with("[[")
            && t.trim_start_matches('[')
                .trim_start()
                .starts_with("pattern")
        {
            if seen == n {
                return Some(off);
            }
            seen += 1;
        }
        off += line.len();
    }
    None
}

/// Offset of the `[server]` header.
pub(super) fn server_header(src: &str) -> Option<usize> {
    let mut off = 0;
    for line in src.split_inclusive('\n') {
        if line.trim().starts_with("[server") {
            return Some(off);
        }
        off += line.len();
    }
    None
}
