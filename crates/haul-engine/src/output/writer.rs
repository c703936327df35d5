//! [`ChunkWriter`]: a [`PartFile`] driven from async code.
//!
//! Owns: the bounded queue of chunks from a fetcher to a task on the blocking pool that writes
//! and hashes them, so the network side never waits on the disk except through back-pressure,
//! and handing the part back (or committing it) when the fetch ends.
//! Must not touch: the network, events, what a part's bytes mean (that is `PartFile`).

use std::path::PathBuf;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Committed, PartFile};
use crate::protocol::{DiskProblem, FetchError};

/// Chunks queued between an async fetcher and its writer thread.
const CHUNK_QUEUE: usize = 64;

enum Message {
    Chunk(Bytes),
    Commit(Option<u64>),
    Restart,
}

/// How a writer task ended without an error.
enum Ended {
    Committed(Committed),
    /// Handed back (the fetcher stopped early): the caller keeps or drops it.
    Returned(Box<PartFile>),
    /// A write failed: the part comes back with the error, and the caller keeps it (a full
    /// disk: the bytes so far are worth resuming) or drops it, which removes it.
    Broken(Box<PartFile>, FetchError),
}

/// A [`PartFile`] driven from async code: chunks go over a bounded queue to a task on the
/// blocking pool that writes and hashes them, so the network side never waits on the disk
/// except through back-pressure.
pub struct ChunkWriter {
    tx: mpsc::Sender<Message>,
    /// `None` once the writer's result has been collected.
    task: Option<JoinHandle<Result<Ended, FetchError>>>,
    /// The part a failed write handed back, until [`ChunkWriter::into_part`] takes it.
    broken: Option<Box<PartFile>>,
}

impl ChunkWriter {
    pub fn spawn(mut part: PartFile) -> ChunkWriter {
        let (tx, mut rx) = mpsc::channel(CHUNK_QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(message) = rx.blocking_recv() {
                let written = match message {
                    Message::Chunk(bytes) => part.write_chunk(bytes),
                    Message::Restart => part.restart(),
                    Message::Commit(expected) => {
                        return part.commit(expected).map(Ended::Committed);
                    }
                };
                if let Err(e) = written {
                    return Ok(Ended::Broken(Box::new(part), e));
                }
            }
            Ok(Ended::Returned(Box::new(part)))
        });
        ChunkWriter {
            tx,
            task: Some(task),
            broken: None,
        }
    }

    /// Queues a chunk. An error means the writer stopped; the error says why.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), FetchError> {
        self.send(Message::Chunk(chunk)).await
    }

    /// Empties the part to start over.
    pub async fn restart(&mut self) -> Result<(), FetchError> {
        self.send(Message::Restart).await
    }

    async fn send(&mut self, message: Message) -> Result<(), FetchError> {
        if self.tx.send(message).await.is_ok() {
            return Ok(());
        }
        // The writer only stops early on an error: collect it.
        match self.collect().await {
            Err(e) => Err(e),
            Ok(Ended::Broken(part, e)) => {
                self.broken = Some(part);
                Err(e)
            }
            Ok(_) => Err(stopped_error()),
        }
    }

    /// Writes what is queued, verifies, fsyncs and renames into place.
    pub async fn commit(mut self, expected: Option<u64>) -> Result<Committed, FetchError> {
        // If the writer already stopped, the send fails and `collect` reports why.
        let _ = self.tx.send(Message::Commit(expected)).await;
        match self.collect().await? {
            Ended::Committed(committed) => Ok(committed),
            Ended::Broken(_, e) => Err(e),
            Ended::Returned(_) => Err(stopped_error()),
        }
    }

    /// Writes what is queued and hands the part back (after a failed write too: the caller
    /// keeps it or drops it).
    pub async fn into_part(mut self) -> Result<PartFile, FetchError> {
        if let Some(part) = self.broken.take() {
            return Ok(*part);
        }
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
        match self.collect().await? {
            Ended::Returned(part) | Ended::Broken(part, _) => Ok(*part),
            Ended::Committed(_) => Err(stopped_error()),
        }
    }

    async fn collect(&mut self) -> Result<Ended, FetchError> {
        let Some(task) = self.task.take() else {
            return Err(stopped_error());
        };
        task.await.unwrap_or_else(|e| {
            Err(FetchError::Write {
                path: PathBuf::new(),
                message: format!("writer task failed: {e}"),
                problem: DiskProblem::Other,
            })
        })
    }
}

fn stopped_error() -> FetchError {
    FetchError::Write {
        path: PathBuf::new(),
        message: "writer stopped".to_owned(),
        problem: DiskProblem::Other,
    }
}
