//! Decoding a trace on a helper thread: a single replay has a core to
//! spare, and reading a trace (decompressing a `.zst`, parsing binary
//! records) is work that never depends on the simulation. [`Piped`] runs
//! another source's [`TraceSource::next_batch`] on its own thread, a few
//! blocks ahead, and hands the blocks over in order with the position,
//! skip and clamp counts the source had after each, so a replay sees
//! exactly what it would have read itself: the same records, the same
//! errors at the same records, the same counts when `--duration` stops it
//! early. A replay pipes its re-based source ([`super::Rebased`]), so the
//! pass over each block's times runs on the helper too.
//!
//! A source without a compact form (the CSV and MONITOR formats) is handed
//! back by the helper at its first call, before it read anything, and is
//! then read record by record on the replay's thread as before.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::{Format, Pos, RecBatch, TraceError, TraceRecord, TraceSource};

/// Blocks decoded ahead of the replay (each [`super::BATCH_LEN`] records):
/// enough to ride out a slow read, little memory (40 bytes a record).
const BLOCKS_AHEAD: usize = 4;

/// Where the source was after a message, and what it had skipped and
/// clamped so far.
#[derive(Clone)]
struct Progress {
    pos: Pos,
    skipped: Vec<(String, u64)>,
    clamped: u64,
}

impl Progress {
    fn of(source: &dyn TraceSource) -> Progress {
        Progress {
            pos: source.position(),
            skipped: source.skipped(),
            clamped: source.clamped(),
        }
    }
}

/// What the helper sends, in the order the source gave it.
enum Msg {
    /// A block of records, with the source's progress after reading it.
    Block(RecBatch, Progress),
    /// The end of the trace.
    End(Progress),
    /// The source's error and its progress after it; the helper stops.
    Failed(TraceError, Progress),
    /// The source has no compact form: here it is back, unread.
    Unblocked(Box<dyn TraceSource>),
}

/// A source decoded on a helper thread (see the module docs).
pub struct Piped {
    format: Format,
    file: String,
    /// Blocks from the helper; `None` once it finished or handed back.
    rx: Option<Receiver<Msg>>,
    /// Emptied blocks going back to the helper for reuse.
    spare: Option<SyncSender<RecBatch>>,
    helper: Option<JoinHandle<()>>,
    /// The source, once the helper handed it back.
    unblocked: Option<Box<dyn TraceSource>>,
    /// Where the source was after the last block taken.
    progress: Progress,
    /// An error already reported, returned again if asked again.
    failed: Option<TraceError>,
}

impl Piped {
    /// Starts decoding `source` on a helper thread.
    pub fn new(mut source: Box<dyn TraceSource>) -> Piped {
        let (format, file, pos) = (
            source.format(),
            source.file().to_string(),
            source.position(),
        );
        let (tx, rx) = sync_channel::<Msg>(BLOCKS_AHEAD);
        let (spare_tx, spare_rx) = sync_channel::<RecBatch>(BLOCKS_AHEAD + 2);
        let helper = std::thread::Builder::new()
            .name("ttlsim-trace".into())
            .spawn(move || {
                let mut first = true;
                loop {
                    let mut block = spare_rx.try_recv().unwrap_or_default();
                    block.clear();
                    let msg = match source.next_batch(&mut block) {
                        Ok(false) if first => {
                            let _ = tx.send(Msg::Unblocked(source));
                            return;
                        }
                        Ok(false) | Ok(true) if block.is_empty() => {
                            Msg::End(Progress::of(&*source))
                        }
                        Ok(_) => Msg::Block(block, Progress::of(&*source)),
                        Err(e) => Msg::Failed(e, Progress::of(&*source)),
                    };
                    first = false;
                    let last = !matches!(msg, Msg::Block(..));
                    // The replay stopped (its duration ended): so does the helper.
                    if tx.send(msg).is_err() || last {
                        return;
                    }
                }
            });
        // No thread to be had: the source went with the closure, so the
        // failure to start one is the source's error.
        let (helper, failed) = match helper {
            Ok(h) => (Some(h), None),
            Err(e) => (
                None,
                Some(TraceError::new(
                    &file,
                    pos,
                    format!("cannot start a thread to read the trace: {e}"),
                )),
            ),
        };
        Piped {
            format,
            file,
            rx: helper.is_some().then_some(rx),
            spare: helper.is_some().then_some(spare_tx),
            helper,
            unblocked: None,
            progress: Progress {
                pos,
                skipped: Vec::new(),
                clamped: 0,
            },
            failed,
        }
    }

    /// Takes the helper's error and where the source was after it; the
    /// error is returned again if the source is asked again.
    fn fail(&mut self, e: TraceError, progress: Progress) -> TraceError {
        self.progress = progress;
        self.failed = Some(e.clone());
        e
    }

    /// The helper's next message; `None` once it sent its last. A helper
    /// that died without one (a bug in a reader) is an error, never a
    /// trace that silently ends early.
    fn recv(&mut self) -> Option<Msg> {
        let msg = self.rx.as_ref()?.recv().ok();
        if !matches!(msg, Some(Msg::Block(..))) {
            self.rx = None;
            let died = self.helper.take().is_some_and(|h| h.join().is_err());
            if msg.is_none() || died {
                return Some(Msg::Failed(
                    TraceError::new(
                        &self.file,
                        self.progress.pos,
                        "the thread reading the trace failed",
                    ),
                    self.progress.clone(),
                ));
            }
        }
        msg
    }
}

impl TraceSource for Piped {
    fn format(&self) -> Format {
        self.format
    }

    fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        if self.unblocked.is_none() && self.rx.is_some() {
            match self.recv() {
                Some(Msg::Unblocked(s)) => self.unblocked = Some(s),
                // The helper died before handing the reader back.
                Some(Msg::Failed(e, progress)) => return Err(self.fail(e, progress)),
                Some(_) | None => {
                    return Err(TraceError::new(
                        &self.file,
                        self.progress.pos,
                        "this trace is read in blocks, not record by record",
                    ))
                }
            }
        }
        match self.unblocked.as_mut() {
            Some(s) => s.next_record(),
            None => match &self.failed {
                Some(e) => Err(e.clone()),
                None => Ok(None),
            },
        }
    }

    fn next_batch(&mut self, out: &mut RecBatch) -> Result<bool, TraceError> {
        if let Some(s) = self.unblocked.as_mut() {
            return s.next_batch(out);
        }
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.recv() {
            Some(Msg::Block(mut block, progress)) => {
                if out.is_empty() {
                    std::mem::swap(out, &mut block);
                } else {
                    block.move_tail(0, out);
                }
                if let Some(spare) = &self.spare {
                    let _ = spare.try_send(block);
                }
                self.progress = progress;
                Ok(true)
            }
            Some(Msg::End(progress)) => {
                self.progress = progress;
                Ok(true)
            }
            Some(Msg::Failed(e, progress)) => Err(self.fail(e, progress)),
            Some(Msg::Unblocked(s)) => {
                self.unblocked = Some(s);
                Ok(false)
            }
            None => Ok(true),
        }
    }

    fn position(&self) -> Pos {
        match &self.unblocked {
            Some(s) => s.position(),
            None => self.progress.pos,
        }
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        match &self.unblocked {
            Some(s) => s.skipped(),
            None => self.progress.skipped.clone(),
        }
    }

    fn clamped(&self) -> u64 {
        match &self.unblocked {
            Some(s) => s.clamped(),
            None => self.progress.clamped,
        }
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        // Closing the channel stops the helper at its next send.
        self.rx = None;
        self.spare = None;
        if let Some(h) = self.helper.take() {
            let _ = h.join();
        }
    }
}
