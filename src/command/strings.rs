//! String commands, as Redis's `t_string.c`: GET, SET and its options,
//! SETEX/PSETEX, SETNX, MGET, MSET, GETEX, GETDEL, APPEND and the INCR
//! family.

use super::{arity_error, int_arg, lower, Exec, KeyMap, Value};
use crate::reply::Reply;
use crate::store::{GetexAction, IncrError, SetCond, SetTtl, TooLong};

/// Expiry options shared by SET and GETEX (`parseExtendedStringArgumentsOrReply`).
#[derive(Default)]
struct StringOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// (unit is seconds, absolute, argument)
    expire: Option<(bool, bool, &'a [u8])>,
}

impl<V: Value, K: KeyMap> Exec<'_, V, K> {
    /// GET.
    pub(super) fn get_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        let k = self.key(&argv[1]);
        self.store
            .get(k)
            .map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
    }

    /// APPEND (`appendCommand`): the new length; a missing key is created
    /// as by SET, an existing value grows in place and keeps its TTL.
    pub(super) fn append_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let k = self.key(&argv[1]);
        let tail = &argv[2];
        match self
            .store
            .append(k, tail.len() as u64, |old| V::appended(old, tail))
        {
            Ok(Some(len)) => Ok(Reply::Int(len as i64)),
            // Not admitted (objects model or a reference policy): the
            // length it would have had.
            Ok(None) => Ok(Reply::Int(tail.len() as i64)),
            Err(TooLong) => Err(Reply::err(
                "string exceeds maximum allowed size (proto-max-bulk-len)",
            )),
        }
    }

    /// SETEX (`name` is `setex`) or PSETEX.
    pub(super) fn setex_command(&mut self, name: &str, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let seconds = name == "setex";
        let when = self.expire_ms(name, seconds, false, &argv[2])?;
        let k = self.key(&argv[1]);
        self.store.set(
            k,
            V::from_arg(&argv[3]),
            SetCond::Always,
            SetTtl::At(when),
            false,
        );
        Ok(Reply::ok())
    }

    /// SETNX.
    pub(super) fn setnx_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        let k = self.key(&argv[1]);
        let (written, _) =
            self.store
                .set(k, V::from_arg(&argv[2]), SetCond::Nx, SetTtl::Clear, false);
        Reply::bool(written)
    }

    /// MGET.
    pub(super) fn mget_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        Reply::Array(
            argv[1..]
                .iter()
                .map(|a| {
                    let k = self.key(a);
                    self.store
                        .get(k)
                        .map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
                })
                .collect(),
        )
    }

    /// MSET: key/value pairs, all written without a TTL.
    pub(super) fn mset_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        if argv.len().is_multiple_of(2) {
            return Err(arity_error("mset"));
        }
        for pair in argv[1..].chunks(2) {
            let k = self.key(&pair[0]);
            self.store.set(
                k,
                V::from_arg(&pair[1]),
                SetCond::Always,
                SetTtl::Clear,
                false,
            );
        }
        Ok(Reply::ok())
    }

    /// GETDEL.
    pub(super) fn getdel_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        let k = self.key(&argv[1]);
        self.store
            .getdel(k)
            .map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
    }

    /// INCRBY.
    pub(super) fn incrby_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let by = int_arg(&argv[2])?;
        self.incr(&argv[1], by)
    }

    /// DECRBY: refuses the one decrement that cannot be negated.
    pub(super) fn decrby_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let by = int_arg(&argv[2])?;
        if by == i64::MIN {
            return Err(Reply::err("decrement would overflow"));
        }
        self.incr(&argv[1], -by)
    }

    /// `incrDecrCommand`: adds `by` to the integer at `key`.
    pub(super) fn incr(&mut self, key: &[u8], by: i64) -> Result<Reply, Reply> {
        let k = self.key(key);
        match self.store.incr_by(k, by) {
            Ok(v) => Ok(Reply::Int(v)),
            Err(IncrError::NotInteger) => {
                Err(Reply::err("value is not an integer or out of range"))
            }
            Err(IncrError::Overflow) => Err(Reply::err("increment or decrement would overflow")),
        }
    }

    /// `parseExtendedStringArgumentsOrReply` for SET (`for_set`) or GETEX.
    fn parse_string_opts<'a>(argv: &'a [Vec<u8>], for_set: bool) -> Result<StringOpts<'a>, Reply> {
        let mut o = StringOpts::default();
        let mut j = if for_set { 3 } else { 2 };
        let syntax = || Reply::err("syntax error");
        while j < argv.len() {
            let opt = lower(&argv[j]);
            let next = argv.get(j + 1);
            let has_expire = o.expire.is_some();
            let expire_kind = o.expire.map(|(s, a, _)| (s, a));
            // EX/PX/EXAT/PXAT exclude each other's *other* kinds; repeating the
            // same kind is accepted and the last value wins.
            let kind_ok = |k: (bool, bool)| expire_kind.is_none_or(|e| e == k);
            match opt.as_str() {
                "nx" if for_set && !o.xx => o.nx = true,
                "xx" if for_set && !o.nx => o.xx = true,
                "get" if for_set => o.get = true,
                "keepttl" if for_set && !o.persist && !has_expire => o.keepttl = true,
                "persist" if !for_set && !has_expire && !o.keepttl => o.persist = true,
                "ex" | "px" | "exat" | "pxat" => {
                    let kind = (opt == "ex" || opt == "exat", opt == "exat" || opt == "pxat");
                    match next {
                        Some(arg) if !o.keepttl && !o.persist && kind_ok(kind) => {
                            o.expire = Some((kind.0, kind.1, arg.as_slice()));
                            j += 1;
                        }
                        _ => return Err(syntax()),
                    }
                }
                _ => return Err(syntax()),
            }
            j += 1;
        }
        Ok(o)
    }

    /// SET with its NX/XX/GET/KEEPTTL/EX/PX/EXAT/PXAT options.
    pub(super) fn set_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let o = Self::parse_string_opts(argv, true)?;
        let ttl = match o.expire {
            Some((secs, abs, arg)) => SetTtl::At(self.expire_ms("set", secs, abs, arg)?),
            None if o.keepttl => SetTtl::Keep,
            None => SetTtl::Clear,
        };
        let cond = if o.nx {
            SetCond::Nx
        } else if o.xx {
            SetCond::Xx
        } else {
            SetCond::Always
        };
        let k = self.key(&argv[1]);
        let (written, old) = self.store.set(k, V::from_arg(&argv[2]), cond, ttl, o.get);
        Ok(if o.get {
            old.map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
        } else if written {
            Reply::ok()
        } else {
            Reply::Nil
        })
    }

    /// GETEX: options are parsed first, then the key is looked up (a miss
    /// replies nil even with an invalid time), then the time is validated.
    pub(super) fn getex_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let o = Self::parse_string_opts(argv, false)?;
        let k = self.key(&argv[1]);
        let Some(value) = self.store.get(k).cloned() else {
            return Ok(Reply::Nil);
        };
        let action = match o.expire {
            Some((secs, abs, arg)) => GetexAction::At(self.expire_ms("getex", secs, abs, arg)?),
            None if o.persist => GetexAction::Persist,
            None => GetexAction::None,
        };
        self.store.getex_apply(k, action);
        Ok(Reply::Bulk(value.to_bulk()))
    }
}
