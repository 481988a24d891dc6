//! Parsing a supplier feed through a plugin: read the bytes from a file or
//! URL in chunks, push each chunk into the plugin's streaming parser, hand
//! every record to the caller as it comes, and sum it all up.
//!
//! Neither side holds the whole feed: the host holds one chunk, the guest
//! its parser state and the current record.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use crate::plugins::{CallOptions, Plugin};
use crate::runtime::bindings::shopbridge::connector::types::{FeedError, FeedRecord, Rejection};
use crate::runtime::{PluginError, Runtime};

/// Default chunk pushed into the plugin. Each push is one boundary crossing
/// (~1 µs) plus a copy into guest memory: at 64 KiB that is noise against
/// the parsing itself, and the guest never needs more than a few chunks of
/// memory.
pub const DEFAULT_CHUNK_BYTES: usize = 64 << 10;

/// Rejections kept with their reasons in a summary; the rest are counted.
const MAX_REJECTIONS_KEPT: usize = 100;

/// Where a feed comes from.
#[derive(Debug, Clone)]
pub enum FeedSource {
    /// A local file.
    File(PathBuf),
    /// An http(s) URL the host fetches itself (gzip handled).
    Url(reqwest::Url),
}

impl FeedSource {
    /// A URL if it parses as http(s), else a file path.
    pub fn parse(text: &str) -> FeedSource {
        match reqwest::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => FeedSource::Url(url),
            Ok(url) if url.scheme() == "file" => match url.to_file_path() {
                Ok(path) => FeedSource::File(path),
                Err(()) => FeedSource::File(PathBuf::from(text)),
            },
            _ => FeedSource::File(PathBuf::from(text)),
        }
    }
}

/// What one feed run produced.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FeedSummary {
    /// Products parsed.
    pub products: u64,
    /// Records rejected by the plugin.
    pub rejected: u64,
    /// The first rejections, with their reasons.
    pub rejections: Vec<Rejection>,
    /// Bytes read from the source.
    pub bytes: u64,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// Largest linear memory of the guest during the run.
    pub guest_memory_peak_bytes: usize,
}

impl FeedSummary {
    /// Throughput in MB/s (10^6 bytes).
    pub fn megabytes_per_second(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why a feed run stopped.
#[derive(Debug, thiserror::Error)]
pub enum FeedRunError {
    /// The source could not be read.
    #[error("could not read the feed: {0}")]
    Source(String),
    /// The plugin failed in the sandbox (trap, deadline, memory).
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The plugin refused the feed as a whole.
    #[error("{}", describe_feed_error(.0))]
    Feed(FeedError),
}

/// A sentence for a person describing a plugin's feed error.
pub fn describe_feed_error(e: &FeedError) -> String {
    match e {
        FeedError::Unsupported => "this plugin does not parse feeds".to_owned(),
        FeedError::Malformed(m) => format!("malformed feed: {m}"),
        FeedError::Refused(m) => format!("feed refused: {m}"),
        FeedError::Configuration(m) => format!("plugin configuration: {m}"),
    }
}

/// Parses `source` with `plugin`, calling `on_record` for each record in
/// feed order and `on_progress(bytes_read, total_bytes)` after each chunk.
pub async fn parse_feed(
    runtime: &Runtime,
    plugin: &Plugin,
    options: &CallOptions,
    source: &FeedSource,
    chunk_bytes: usize,
    mut on_record: impl FnMut(&FeedRecord),
    mut on_progress: impl FnMut(u64, Option<u64>),
) -> Result<FeedSummary, FeedRunError> {
    let started = Instant::now();
    let chunk_bytes = chunk_bytes.max(1);
    let mut reader = open(source).await?;
    let content_type = reader.content_type.clone();
    let mut session = plugin
        .open_feed(runtime, options, content_type)
        .await?
        .map_err(FeedRunError::Feed)?;

    let mut summary = FeedSummary::default();
    let mut tally = |records: Vec<FeedRecord>, summary: &mut FeedSummary| {
        for record in &records {
            match record {
                FeedRecord::Product(_) => summary.products += 1,
                FeedRecord::Rejected(r) => {
                    summary.rejected += 1;
                    if summary.rejections.len() < MAX_REJECTIONS_KEPT {
                        summary.rejections.push(r.clone());
                    }
                }
            }
            on_record(record);
        }
    };

    let mut buffer = vec![0u8; chunk_bytes];
    loop {
        let filled = reader.read_chunk(&mut buffer).await?;
        if filled == 0 {
            break;
        }
        summary.bytes += filled as u64;
        let records = session
            .push(&buffer[..filled])
            .await?
            .map_err(FeedRunError::Feed)?;
        tally(records, &mut summary);
        on_progress(summary.bytes, reader.total);
    }
    let records = session.finish().await?.map_err(FeedRunError::Feed)?;
    tally(records, &mut summary);
    summary.elapsed = started.elapsed();
    summary.guest_memory_peak_bytes = session.memory_peak();
    Ok(summary)
}

/// A source read in chunks of the caller's size.
struct ChunkReader {
    inner: Inner,
    content_type: Option<String>,
    total: Option<u64>,
}

enum Inner {
    File(tokio::fs::File),
    Http {
        stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        pending: bytes::Bytes,
    },
}

async fn open(source: &FeedSource) -> Result<ChunkReader, FeedRunError> {
    match source {
        FeedSource::File(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| FeedRunError::Source(format!("{}: {e}", path.display())))?;
            let total = file.metadata().await.ok().map(|m| m.len());
            Ok(ChunkReader {
                inner: Inner::File(file),
                content_type: None,
                total,
            })
        }
        FeedSource::Url(url) => {
            let client = reqwest::Client::builder()
                .user_agent(concat!("shopbridge/", env!("CARGO_PKG_VERSION")))
                // A feed server that accepts no connection in 10 s is down; one
                // that sends nothing for 60 s mid-feed has stalled.
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| FeedRunError::Source(e.to_string()))?;
            let response = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| FeedRunError::Source(format!("{url}: {e}")))?;
            if !response.status().is_success() {
                return Err(FeedRunError::Source(format!(
                    "{url} answered {}",
                    response.status()
                )));
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let total = response.content_length();
            Ok(ChunkReader {
                inner: Inner::Http {
                    stream: response.bytes_stream().boxed(),
                    pending: bytes::Bytes::new(),
                },
                content_type,
                total,
            })
        }
    }
}

impl ChunkReader {
    /// Fills `buffer` as far as the source allows; 0 at the end.
    async fn read_chunk(&mut self, buffer: &mut [u8]) -> Result<usize, FeedRunError> {
        let mut filled = 0;
        while filled < buffer.len() {
            let n = match &mut self.inner {
                Inner::File(file) => file
                    .read(&mut buffer[filled..])
                    .await
                    .map_err(|e| FeedRunError::Source(e.to_string()))?,
                Inner::Http { stream, pending } => {
                    if pending.is_empty() {
                        match stream.next().await {
                            Some(Ok(bytes)) => *pending = bytes,
                            Some(Err(e)) => return Err(FeedRunError::Source(e.to_string())),
                            None => break,
                        }
                        if pending.is_empty() {
                            continue;
                        }
                    }
                    let n = pending.len().min(buffer.len() - filled);
                    buffer[filled..filled + n].copy_from_slice(&pending.split_to(n));
                    n
                }
            };
            if n == 0 {
                break;
            }
            filled += n;
        }
        Ok(filled)
    }
}
