//! The tail of a plugin instance's output: the last few KiB it wrote to
//! stderr and the error lines it logged, kept in memory so a trap's
//! dead-letter reason can say what the guest said (a Rust plugin's panic
//! message, a Python traceback, a JavaScript exception's stack). Nothing
//! else of WASI stdio reaches the host.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Bytes of stderr kept per instance.
pub const TAIL_BYTES: usize = 4096;

/// A bounded buffer of the latest stderr bytes; clones share it.
#[derive(Debug, Clone, Default)]
pub struct StderrTail {
    bytes: Arc<Mutex<VecDeque<u8>>>,
}

impl StderrTail {
    /// Forget what was written so far.
    pub fn clear(&self) {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// What was written since the last `clear`, as text, trimmed.
    pub fn text(&self) -> String {
        let bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        let (a, b) = bytes.as_slices();
        let mut all = a.to_vec();
        all.extend_from_slice(b);
        String::from_utf8_lossy(&all).trim().to_owned()
    }

    /// Add a line the host writes on the guest's behalf.
    pub fn note(&self, line: &str) {
        self.append(line.as_bytes());
    }

    fn append(&self, data: &[u8]) {
        let mut bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend(data.iter().rev().take(TAIL_BYTES).rev());
        let excess = bytes.len().saturating_sub(TAIL_BYTES);
        bytes.drain(..excess);
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_bytes_are_kept() {
        let tail = StderrTail::default();
        tail.append(&vec![b'a'; TAIL_BYTES]);
        tail.append(b"panicked at src/lib.rs: boom\n");
        let text = tail.text();
        assert_eq!(text.len(), TAIL_BYTES - 1);
        assert!(text.ends_with("boom"));
        tail.clear();
        assert_eq!(tail.text(), "");
    }
}
