//! Parsing a supplier feed through a plugin: read the bytes from a file or
//! URL in chunks, push each chunk into the plugin's streaming parser, hand
//! every record to the caller as it comes, and sum it all up.
//!
//! Neither side holds the whole feed: the host holds one chunk, the guest
//! its parser state and the current record.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use tokio::io::AsyncReadExt;

use crate::plugins::{CallOptions, Plugin};
use crate::runtime::bindings::shopbridge::connector::types::{FeedError, FeedRecord, Rejection};
use crate::runtime::http::{PublicOnlyResolver, is_public};
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
    /// Nothing for the host to fetch: the plugin reads the catalog from the
    /// supplier's API itself (the `odoo` connector), so the feed it is
    /// pushed is empty. There is nothing to compare with the last run
    /// either: every run parses, and so picks up what changed at the
    /// supplier since.
    Api,
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
    /// Counts `records` in (and keeps the first rejections).
    pub fn count(&mut self, records: &[FeedRecord]) {
        for record in records {
            match record {
                FeedRecord::Product(_) => self.products += 1,
                FeedRecord::Rejected(r) => {
                    self.rejected += 1;
                    if self.rejections.len() < MAX_REJECTIONS_KEPT {
                        self.rejections.push(r.clone());
                    }
                }
            }
        }
    }

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
    let fetched = FeedStream::open(
        runtime,
        plugin,
        options,
        source,
        chunk_bytes,
        &Validators::default(),
        None,
    )
    .await?;
    let Fetched::Feed(mut stream) = fetched else {
        return Ok(FeedSummary::default());
    };
    while let Some(records) = stream.next_batch().await? {
        records.iter().for_each(&mut on_record);
        let (read, total) = stream.progress();
        on_progress(read, total);
    }
    Ok(stream.into_summary())
}

/// What identifies a version of a feed for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

/// The outcome of opening a feed.
pub enum Fetched {
    /// The server says the feed has not changed since `Validators`.
    NotModified,
    /// A feed to read (boxed: a stream holds its store and buffer).
    Feed(Box<FeedStream>),
}

/// A feed's bytes, read once in chunks of the caller's size: what a
/// [`FeedStream`] pushes into one parser, and a shadow run into two.
pub struct FeedBytes {
    reader: ChunkReader,
    buffer: Vec<u8>,
    read: u64,
    max_bytes: Option<u64>,
}

impl FeedBytes {
    /// Fetches `source` (conditionally, when validators are given); `None`
    /// when the server says it has not changed. `max_bytes` caps the
    /// feed's size.
    pub async fn open(
        source: &FeedSource,
        chunk_bytes: usize,
        conditional: &Validators,
        max_bytes: Option<u64>,
    ) -> Result<Option<FeedBytes>, FeedRunError> {
        let Some(reader) = open(source, conditional).await? else {
            return Ok(None);
        };
        if let (Some(total), Some(max)) = (reader.total, max_bytes)
            && total > max
        {
            return Err(FeedRunError::Source(format!(
                "the feed is {total} bytes, more than the {max} allowed"
            )));
        }
        Ok(Some(FeedBytes {
            reader,
            buffer: vec![0u8; chunk_bytes.max(1)],
            read: 0,
            max_bytes,
        }))
    }

    /// The next chunk, empty at the end of the feed.
    pub async fn next_chunk(&mut self) -> Result<&[u8], FeedRunError> {
        let filled = self.reader.read_chunk(&mut self.buffer).await?;
        self.read += filled as u64;
        if let Some(max) = self.max_bytes
            && self.read > max
        {
            return Err(FeedRunError::Source(format!(
                "the feed is larger than the {max} bytes allowed"
            )));
        }
        Ok(&self.buffer[..filled])
    }

    /// The media type its server gave, if any.
    pub fn content_type(&self) -> Option<String> {
        self.reader.content_type.clone()
    }

    /// Bytes read so far, and the total when the source said it.
    pub fn progress(&self) -> (u64, Option<u64>) {
        (self.read, self.reader.total)
    }

    /// The validators of what was fetched, for the next conditional request.
    pub fn validators(&self) -> &Validators {
        &self.reader.validators
    }
}

/// A feed being read and parsed, pulled batch by batch: the caller does
/// what it must with each batch (store it, say) before the next chunk is
/// read, so nothing piles up.
pub struct FeedStream {
    bytes: FeedBytes,
    session: crate::plugins::FeedSession,
    summary: FeedSummary,
    started: Instant,
    finished: bool,
}

impl FeedStream {
    /// Fetches `source` (conditionally, when validators are given) and
    /// opens the plugin's parser on it. `max_bytes` caps the feed's size.
    pub async fn open(
        runtime: &Runtime,
        plugin: &Plugin,
        options: &CallOptions,
        source: &FeedSource,
        chunk_bytes: usize,
        conditional: &Validators,
        max_bytes: Option<u64>,
    ) -> Result<Fetched, FeedRunError> {
        let started = Instant::now();
        let Some(bytes) = FeedBytes::open(source, chunk_bytes, conditional, max_bytes).await?
        else {
            return Ok(Fetched::NotModified);
        };
        let session = plugin
            .open_feed(runtime, options, bytes.content_type())
            .await?
            .map_err(FeedRunError::Feed)?;
        Ok(Fetched::Feed(Box::new(FeedStream {
            bytes,
            session,
            summary: FeedSummary::default(),
            started,
            finished: false,
        })))
    }

    /// The records of the next chunk (possibly none), or `None` once the
    /// feed is finished.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<FeedRecord>>, FeedRunError> {
        if self.finished {
            return Ok(None);
        }
        let chunk = self.bytes.next_chunk().await?;
        let records = if chunk.is_empty() {
            self.finished = true;
            let records = self.session.finish().await?.map_err(FeedRunError::Feed)?;
            self.summary.elapsed = self.started.elapsed();
            self.summary.guest_memory_peak_bytes = self.session.memory_peak();
            records
        } else {
            self.summary.bytes += chunk.len() as u64;
            self.session
                .push(chunk)
                .await?
                .map_err(FeedRunError::Feed)?
        };
        self.summary.count(&records);
        Ok(Some(records))
    }

    /// Bytes read so far, and the total when the source said it.
    pub fn progress(&self) -> (u64, Option<u64>) {
        self.bytes.progress()
    }

    /// The validators of what was fetched, for the next conditional request.
    pub fn validators(&self) -> &Validators {
        self.bytes.validators()
    }

    /// The run's summary so far (complete once `next_batch` returned `None`).
    pub fn summary(&self) -> &FeedSummary {
        &self.summary
    }

    /// The run's summary.
    pub fn into_summary(self) -> FeedSummary {
        self.summary
    }
}

/// A source read in chunks of the caller's size.
struct ChunkReader {
    inner: Inner,
    content_type: Option<String>,
    total: Option<u64>,
    validators: Validators,
}

enum Inner {
    Empty,
    File(tokio::fs::File),
    Http {
        stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        pending: bytes::Bytes,
    },
}

/// Opens the source; `None` when a conditional request says it is unchanged.
async fn open(
    source: &FeedSource,
    conditional: &Validators,
) -> Result<Option<ChunkReader>, FeedRunError> {
    match source {
        FeedSource::File(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| FeedRunError::Source(format!("{}: {e}", path.display())))?;
            let metadata = file.metadata().await.ok();
            let total = metadata.as_ref().map(|m| m.len());
            // A local file's validator is its size and modification time;
            // an empty file has none: it is how a catalog read from the
            // supplier's API was bound before `FeedSource::Api`, and the
            // plugin's answer changes while the file does not.
            let last_modified = metadata
                .filter(|m| m.len() > 0)
                .and_then(|m| m.modified().ok())
                .map(httpdate::fmt_http_date);
            let validators = Validators {
                etag: None,
                last_modified: last_modified.map(|t| format!("{t}; {}", total.unwrap_or(0))),
            };
            if validators.last_modified.is_some() && validators == *conditional {
                return Ok(None);
            }
            Ok(Some(ChunkReader {
                inner: Inner::File(file),
                content_type: None,
                total,
                validators,
            }))
        }
        FeedSource::Api => Ok(Some(ChunkReader {
            inner: Inner::Empty,
            content_type: None,
            total: Some(0),
            validators: Validators::default(),
        })),
        FeedSource::Url(url) => {
            let private = on_private_network(url).await;
            let mut builder = reqwest::Client::builder()
                .user_agent(concat!("shopbridge/", env!("CARGO_PKG_VERSION")))
                .redirect(redirect_policy(url.clone(), private))
                // A feed server that accepts no connection in 10 s is down; one
                // that sends nothing for 60 s mid-feed has stalled.
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(Duration::from_secs(60));
            if !private {
                // Every name a redirect leads to must be public as well.
                builder = builder.dns_resolver(std::sync::Arc::new(PublicOnlyResolver));
            }
            let client = builder
                .build()
                .map_err(|e| FeedRunError::Source(e.to_string()))?;
            let mut request = client.get(url.clone());
            if let Some(etag) = &conditional.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &conditional.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
            }
            let response = request.send().await.map_err(|e| {
                // reqwest's Display leaves the policy's reason in the source.
                let mut message = format!("{url}: {e}");
                let mut cause = std::error::Error::source(&e);
                while let Some(inner) = cause {
                    message = format!("{message}: {inner}");
                    cause = inner.source();
                }
                FeedRunError::Source(message)
            })?;
            if response.status() == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(None);
            }
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
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let validators = Validators {
                etag: header(reqwest::header::ETAG),
                last_modified: header(reqwest::header::LAST_MODIFIED),
            };
            Ok(Some(ChunkReader {
                inner: Inner::Http {
                    stream: response.bytes_stream().boxed(),
                    pending: bytes::Bytes::new(),
                },
                content_type,
                total,
                validators,
            }))
        }
    }
}

/// Most redirects followed for one feed.
const MAX_REDIRECTS: usize = 5;

/// Whether the feed's server is on a private network: an address literal
/// that is not public, or a name that resolves to one (a feed on the
/// operator's own network, or on loopback in tests).
async fn on_private_network(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !is_public(ip.into()),
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(80);
            match tokio::net::lookup_host((name, port)).await {
                Ok(mut addrs) => addrs.any(|a| !is_public(a.ip())),
                // Unresolvable: the fetch fails on its own.
                Err(_) => false,
            }
        }
        None => true,
    }
}

/// Where a feed server may send the host: at most [`MAX_REDIRECTS`] times,
/// over http(s); a feed on a private network only on its own host and port
/// (anywhere else is another service of that network, which the feed's
/// server must not make the host read); a public feed anywhere public (an
/// address literal is checked here, a name by the public-only resolver).
fn redirect_policy(origin: reqwest::Url, private: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let to = attempt.url();
        let refuse = |why: &str| format!("the feed redirects to {to}, {why}");
        if attempt.previous().len() > MAX_REDIRECTS {
            let why = refuse(&format!("after {MAX_REDIRECTS} redirects"));
            return attempt.error(why);
        }
        if !matches!(to.scheme(), "http" | "https") {
            let why = refuse("which is not http or https");
            return attempt.error(why);
        }
        let same_place = to.host_str() == origin.host_str()
            && to.port_or_known_default() == origin.port_or_known_default();
        let literal_public = match to.host() {
            Some(url::Host::Ipv4(ip)) => is_public(ip.into()),
            Some(url::Host::Ipv6(ip)) => is_public(ip.into()),
            Some(url::Host::Domain(_)) => true,
            None => false,
        };
        if same_place || (!private && literal_public) {
            attempt.follow()
        } else if private {
            let why = refuse(
                "another host or port: a feed on a private network is followed on its own \
                 host and port only (set feed_url to where it leads if that is meant)",
            );
            attempt.error(why)
        } else {
            let why = refuse("a private address");
            attempt.error(why)
        }
    })
}

impl ChunkReader {
    /// Fills `buffer` as far as the source allows; 0 at the end.
    async fn read_chunk(&mut self, buffer: &mut [u8]) -> Result<usize, FeedRunError> {
        let mut filled = 0;
        while filled < buffer.len() {
            let n = match &mut self.inner {
                Inner::Empty => 0,
                Inner::File(file) => file
                    .read(&mut buffer[filled..])
                    .await
                    .map_err(|e| FeedRunError::Source(e.to_string()))?,
                Inner::Http { stream, pending } => {
                    if pending.is_empty() {
                        // With bytes in hand, take only what has already
                        // arrived: a fast feed still fills whole chunks, a
                        // trickling one is parsed as it comes.
                        let next = if filled == 0 {
                            stream.next().await
                        } else {
                            match stream.next().now_or_never() {
                                Some(next) => next,
                                None => break,
                            }
                        };
                        match next {
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
