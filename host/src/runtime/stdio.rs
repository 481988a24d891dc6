//! A plugin's stdout and stderr, line by line into tracing with its name.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;

use super::logcap::CallBudget;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Bytes of one line kept before it is flushed as is: a plugin printing a
/// huge line without a newline cannot grow the host's memory.
const MAX_LINE_BYTES: usize = 4 << 10;

pub(crate) struct LogStream {
    plugin: Arc<str>,
    stream: &'static str,
}

impl LogStream {
    pub(crate) fn new(plugin: Arc<str>, stream: &'static str) -> Self {
        LogStream { plugin, stream }
    }
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            plugin: self.plugin.clone(),
            stream: self.stream,
            line: Vec::new(),
            budget: CallBudget::default(),
        })
    }
}

struct LineWriter {
    plugin: Arc<str>,
    stream: &'static str,
    line: Vec<u8>,
    /// Lines are log records: bounded like the `log` import's.
    budget: CallBudget,
}

impl LineWriter {
    fn emit(&mut self) {
        if self.line.is_empty() {
            return;
        }
        if self.budget.admit(&self.plugin, self.line.len()) {
            let text = String::from_utf8_lossy(&self.line);
            tracing::info!(target: "plugin", plugin = %self.plugin, stream = self.stream, "{}", text.trim_end());
        }
        self.line.clear();
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        for &byte in buf {
            if byte == b'\n' {
                self.emit();
            } else {
                self.line.push(byte);
                if self.line.len() >= MAX_LINE_BYTES {
                    self.emit();
                }
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.emit();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.emit();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit();
    }
}
