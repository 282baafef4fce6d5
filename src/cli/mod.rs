//! Handlers of the `ttlsim` subcommands that belong to no single module
//! (`sweep` and `report` keep theirs in `sweep::cli` and `report::cli`):
//! `main.rs` parses the command line and calls one of these.

pub mod run;
pub mod shell;
pub mod trace;
