//! `ttlsim shell`: Redis commands in, redis-cli replies out.

use anyhow::{Context, Result};
use clap::Args;
use std::io::BufReader;
use std::path::PathBuf;

use crate::shell::Shell;
use crate::store::Config;

/// `ttlsim shell` arguments.
#[derive(Args)]
pub struct ShellArgs {
    /// Read commands from this file instead of stdin.
    pub file: Option<PathBuf>,
    /// Start the simulated clock at this Unix time in ms (default: now; at
    /// most 4611686018427387, README "Limits").
    #[arg(long, allow_negative_numbers = true)]
    pub start_ms: Option<u64>,
    /// Seed for the hash table and sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the shell on the file or stdin.
pub fn shell(args: ShellArgs) -> Result<()> {
    let start = match args.start_ms {
        Some(ms) if ms > crate::limits::MAX_START_MS => anyhow::bail!(
            "--start-ms must be at most {} (the simulated clock's ceiling), not {ms}",
            crate::limits::MAX_START_MS
        ),
        Some(ms) => ms,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("system clock before 1970")?
            .as_millis() as u64,
    };
    let mut shell = Shell::new(Config::default(), args.seed, start);
    let stdout = std::io::stdout().lock();
    match args.file {
        Some(path) => {
            if path.is_dir() {
                anyhow::bail!(
                    "{} is a folder: give a file of commands, one per line",
                    path.display()
                );
            }
            let f = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            shell.run(BufReader::new(f), stdout)?;
        }
        None => shell.run(std::io::stdin().lock(), stdout)?,
    }
    Ok(())
}
