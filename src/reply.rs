//! Redis replies and how `redis-cli --no-raw` prints them
//! (`cliFormatReplyTTY` and `sdscatrepr` in redis-cli.c / sds.c).

use std::fmt::Write;

/// A RESP2 reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK` and other status lines.
    Status(String),
    /// `-ERR …`: the full text including its code.
    Error(String),
    /// `:5`.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// The null bulk string.
    Nil,
    /// A multi-bulk reply.
    Array(Vec<Reply>),
    /// A bulk string that redis-cli prints raw (INFO, as redis-cli does).
    Raw(String),
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    /// An `ERR`-prefixed error.
    pub fn err(msg: impl AsRef<str>) -> Reply {
        Reply::Error(format!("ERR {}", msg.as_ref()))
    }

    /// A bulk string from text.
    pub fn bulk(s: impl Into<Vec<u8>>) -> Reply {
        Reply::Bulk(s.into())
    }

    /// Integer 1 or 0.
    pub fn bool(b: bool) -> Reply {
        Reply::Int(b as i64)
    }

    /// Formats the reply as redis-cli prints it in its standard (TTY) output.
    pub fn to_cli(&self) -> String {
        let mut out = String::new();
        self.format(&mut out, "");
        out
    }

    fn format(&self, out: &mut String, prefix: &str) {
        match self {
            Reply::Error(e) => {
                let _ = writeln!(out, "(error) {e}");
            }
            Reply::Status(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Reply::Int(i) => {
                let _ = writeln!(out, "(integer) {i}");
            }
            Reply::Bulk(b) => {
                repr(out, b);
                out.push('\n');
            }
            // redis-cli prints an empty raw reply (`INFO bogus`) as nothing.
            Reply::Raw(s) if s.is_empty() => {}
            Reply::Raw(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Reply::Nil => out.push_str("(nil)\n"),
            Reply::Array(items) if items.is_empty() => out.push_str("(empty array)\n"),
            Reply::Array(items) => {
                let width = items.len().to_string().len();
                let child_prefix = format!("{prefix}{}", " ".repeat(width + 2));
                for (i, item) in items.iter().enumerate() {
                    let p = if i == 0 { "" } else { prefix };
                    let _ = write!(out, "{p}{:>width$}) ", i + 1);
                    item.format(out, &child_prefix);
                }
            }
        }
    }
}

/// `sdscatrepr`: a quoted string with C escapes for non-printable bytes.
pub fn repr(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_formats() {
        assert_eq!(Reply::ok().to_cli(), "OK\n");
        assert_eq!(Reply::Int(-2).to_cli(), "(integer) -2\n");
        assert_eq!(Reply::Nil.to_cli(), "(nil)\n");
        assert_eq!(Reply::bulk("a\"b\n\x01").to_cli(), "\"a\\\"b\\n\\x01\"\n");
        assert_eq!(
            Reply::err("syntax error").to_cli(),
            "(error) ERR syntax error\n"
        );
        assert_eq!(Reply::Array(vec![]).to_cli(), "(empty array)\n");
        let arr = Reply::Array(vec![Reply::bulk("a"), Reply::Nil]);
        assert_eq!(arr.to_cli(), "1) \"a\"\n2) (nil)\n");
    }

    #[test]
    fn wide_and_nested_arrays_align_like_redis_cli() {
        let items: Vec<Reply> = (0..10).map(Reply::Int).collect();
        let s = Reply::Array(items).to_cli();
        assert!(s.starts_with(" 1) (integer) 0\n"));
        assert!(s.ends_with("10) (integer) 9\n"));
        let nested = Reply::Array(vec![Reply::Array(vec![Reply::Int(1), Reply::Int(2)])]);
        assert_eq!(nested.to_cli(), "1) 1) (integer) 1\n   2) (integer) 2\n");
    }
}
