//! The HTTP capability lent to plugins: reqwest behind an allow-list.
//!
//! A request goes out only when
//! - its scheme is http or https and it names a host;
//! - the host matches a pattern the plugin declares in its metadata AND a
//!   pattern the binding allows (see [`HostPattern`]);
//! - every address the host resolves to is public, unless the binding allows
//!   private networks (loopback, RFC 1918, link-local, CGNAT, ULA…);
//! - the call has not spent its request budget.
//!
//! Redirects are not followed (the plugin sees the 3xx and may send another
//! request, which is checked again). Response bodies are read up to a cap.
//!
//! The same import has three backends ([`HttpBackend`]): live (the above),
//! replay (answers come from recorded exchanges; nothing leaves the process,
//! and a request with no recording gets a `connection` error naming it) and
//! record (live, and every exchange is kept on a [`Tape`]). Fixture tests
//! (`crate::fixtures`) use the last two.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::bindings::shopbridge::connector::http::{Error, Method, Request, Response};
use super::limits::HttpLimits;

/// A host name pattern: `api.example.com` (exact), `*.example.com` (any
/// subdomain), or `*` (any host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// Parses a pattern; names are compared case-insensitively.
    pub fn new(pattern: &str) -> Self {
        HostPattern(pattern.trim().trim_end_matches('.').to_ascii_lowercase())
    }

    /// Whether `host` (already lower case) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        match self.0.strip_prefix("*.") {
            _ if self.0 == "*" => true,
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => self.0 == host,
        }
    }
}

/// What one plugin instance may reach.
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    /// Hosts the binding (operator) allows this plugin to reach; a pattern
    /// `host:port` allows that port of the host only.
    pub allowed_hosts: Vec<HostPattern>,
    /// Whether private, loopback and link-local addresses may be reached.
    /// Off by default: a plugin must not probe the host's own network.
    pub allow_private_network: bool,
    /// Where requests go: the network, or a tape.
    pub backend: HttpBackend,
}

/// Where a plugin's HTTP requests go.
#[derive(Debug, Clone, Default)]
pub enum HttpBackend {
    /// To the network, through the allow-list.
    #[default]
    Live,
    /// Nowhere: answered from the tape's recorded exchanges.
    Replay(Arc<Tape>),
    /// To the network, and each exchange is added to the tape.
    Record(Arc<Tape>),
}

impl HttpBackend {
    fn tape(&self) -> Option<&Arc<Tape>> {
        match self {
            HttpBackend::Live => None,
            HttpBackend::Replay(t) | HttpBackend::Record(t) => Some(t),
        }
    }
}

/// A request as recorded: what a replay matches on (the headers are left
/// out: they carry credentials, and a fixture must not).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordedRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// The whole URL, query included.
    pub url: String,
    /// The body, as UTF-8 (lossy), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A response as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordedResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body, as UTF-8 (lossy).
    #[serde(default)]
    pub body: String,
}

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exchange {
    /// What the plugin sent.
    pub request: RecordedRequest,
    /// What the supplier answered.
    pub response: RecordedResponse,
}

/// The exchanges of one fixture case: those to replay, those recorded, the
/// requests nothing answered, and what the case's calls cost.
#[derive(Debug, Default)]
pub struct Tape {
    replay: Vec<Exchange>,
    /// Values masked in every request before it is matched or recorded
    /// (a binding's secret settings: a tape is stored, credentials must
    /// not be).
    secrets: Vec<String>,
    state: Mutex<TapeState>,
    memory_peak: AtomicUsize,
}

#[derive(Debug, Default)]
struct TapeState {
    /// Whether each replayed exchange was used already.
    used: Vec<bool>,
    recorded: Vec<Exchange>,
    unmatched: Vec<RecordedRequest>,
    calls: usize,
}

impl Tape {
    /// A tape that answers with `exchanges` (each once, in order; the last
    /// matching one again when they are spent).
    pub fn replaying(exchanges: Vec<Exchange>) -> Self {
        Tape {
            state: Mutex::new(TapeState {
                used: vec![false; exchanges.len()],
                ..TapeState::default()
            }),
            replay: exchanges,
            secrets: Vec::new(),
            memory_peak: AtomicUsize::new(0),
        }
    }

    /// The same tape, masking these values (as given, and form-encoded) in
    /// each request's URL and body as `[secret]`, both in what it records
    /// and in what it matches, so that a masked recording still answers.
    pub fn masking(mut self, secrets: impl IntoIterator<Item = String>) -> Self {
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            if encoded != secret {
                self.secrets.push(encoded);
            }
            self.secrets.push(secret);
        }
        // Longest first: a secret containing another is masked whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self
    }

    fn mask(&self, mut request: RecordedRequest) -> RecordedRequest {
        for secret in &self.secrets {
            if request.url.contains(secret.as_str()) {
                request.url = request.url.replace(secret.as_str(), "[secret]");
            }
            if let Some(body) = request.body.as_mut()
                && body.contains(secret.as_str())
            {
                *body = body.replace(secret.as_str(), "[secret]");
            }
        }
        request
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TapeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The exchanges recorded so far.
    pub fn recorded(&self) -> Vec<Exchange> {
        self.lock().recorded.clone()
    }

    /// The requests no recording answered.
    pub fn unmatched(&self) -> Vec<RecordedRequest> {
        self.lock().unmatched.clone()
    }

    /// The HTTP requests the plugin made (answered or not).
    pub fn calls(&self) -> usize {
        self.lock().calls
    }

    /// The largest linear memory of any store that used this tape.
    pub fn memory_peak(&self) -> usize {
        self.memory_peak.load(Ordering::Relaxed)
    }

    pub(crate) fn note_memory_peak(&self, bytes: usize) {
        self.memory_peak.fetch_max(bytes, Ordering::Relaxed);
    }

    fn answer(&self, request: &RecordedRequest) -> Option<RecordedResponse> {
        let mut state = self.lock();
        state.calls += 1;
        let matching: Vec<usize> = (0..self.replay.len())
            .filter(|&i| self.replay[i].request == *request)
            .collect();
        let chosen = matching
            .iter()
            .copied()
            .find(|&i| !state.used.get(i).copied().unwrap_or(true))
            .or_else(|| matching.last().copied());
        match chosen {
            Some(i) => {
                if let Some(used) = state.used.get_mut(i) {
                    *used = true;
                }
                Some(self.replay[i].response.clone())
            }
            None => {
                state.unmatched.push(request.clone());
                None
            }
        }
    }

    fn record(&self, exchange: Exchange) {
        let mut state = self.lock();
        state.calls += 1;
        state.recorded.push(exchange);
    }
}

/// The two shared clients: one that refuses private addresses at resolution
/// time (so DNS cannot point a public name at 127.0.0.1), one that does not.
#[derive(Clone)]
pub(crate) struct HttpClients {
    public_only: reqwest::Client,
    any: reqwest::Client,
}

impl HttpClients {
    pub(crate) fn new() -> Result<Self, reqwest::Error> {
        let build = |resolver: Option<Arc<PublicOnlyResolver>>| {
            let builder = reqwest::Client::builder()
                .user_agent(concat!("shopbridge/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                // A supplier that takes more than 10 s to accept a connection is down.
                .connect_timeout(Duration::from_secs(10));
            match resolver {
                Some(r) => builder.dns_resolver(r).build(),
                None => builder.build(),
            }
        };
        Ok(HttpClients {
            public_only: build(Some(Arc::new(PublicOnlyResolver)))?,
            any: build(None)?,
        })
    }
}

/// Per-call state of the capability.
pub(crate) struct HttpCapability {
    clients: HttpClients,
    declared: Arc<[HostPattern]>,
    policy: NetworkPolicy,
    limits: HttpLimits,
    requests: u32,
}

impl HttpCapability {
    pub(crate) fn new(
        clients: HttpClients,
        declared: Arc<[HostPattern]>,
        policy: NetworkPolicy,
        limits: HttpLimits,
    ) -> Self {
        HttpCapability {
            clients,
            declared,
            policy,
            limits,
            requests: 0,
        }
    }

    /// The tape of a replay or record backend.
    pub(crate) fn tape(&self) -> Option<&Arc<Tape>> {
        self.policy.backend.tape()
    }

    /// Starts a new call: the request budget is per call.
    pub(crate) fn reset_budget(&mut self) {
        self.requests = 0;
    }

    /// Checks and sends one request for the plugin `plugin`, finishing
    /// before `call_deadline`.
    pub(crate) async fn send(
        &mut self,
        plugin: &str,
        request: Request,
        call_deadline: Instant,
    ) -> Result<Response, Error> {
        if self.requests >= self.limits.max_requests_per_call {
            return Err(Error::TooManyRequests(self.limits.max_requests_per_call));
        }
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| Error::InvalidRequest(format!("bad URL '{}': {e}", request.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidRequest(format!(
                "scheme '{}' is not http or https",
                url.scheme()
            )));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(Error::InvalidRequest("URL has no host".to_owned())),
        };
        if let Some((name, _)) = request.headers.iter().find(|(name, _)| {
            HOST_OWNED_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
        }) {
            return Err(Error::InvalidRequest(format!(
                "header '{name}' is the host's to set (from the URL and the body)"
            )));
        }
        let declared = self.declared.iter().any(|p| p.matches(&host));
        let recorded_request = RecordedRequest {
            method: method(request.method).as_str().to_owned(),
            url: url.to_string(),
            body: request
                .body
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
        };
        let recorded_request = match self.policy.backend.tape() {
            Some(tape) => tape.mask(recorded_request),
            None => recorded_request,
        };
        if let HttpBackend::Replay(tape) = &self.policy.backend {
            // Nothing leaves the process: the binding's allow-list guards
            // the network, and there is none; the plugin's own declaration
            // still holds, as it would live.
            if !declared {
                return Err(Error::ForbiddenHost(format!(
                    "{host} (not declared by the plugin)"
                )));
            }
            self.requests += 1;
            return match tape.answer(&recorded_request) {
                Some(r) => Ok(Response {
                    retry_after_seconds: retry_after(&r.headers, SystemTime::now()),
                    status: r.status,
                    headers: r.headers,
                    body: r.body.into_bytes(),
                }),
                None => {
                    tracing::warn!(plugin, method = %recorded_request.method, url = %recorded_request.url, "replay: no recorded exchange for this request");
                    Err(Error::Connection(format!(
                        "replay: no recorded exchange for {} {}",
                        recorded_request.method, recorded_request.url
                    )))
                }
            };
        }
        let allowed = allows(
            &self.policy.allowed_hosts,
            &host,
            url.port_or_known_default(),
        );
        if !declared || !allowed {
            let why = if declared {
                "not allowed by the binding"
            } else {
                "not declared by the plugin"
            };
            tracing::warn!(plugin, %host, why, "plugin HTTP request refused");
            return Err(Error::ForbiddenHost(format!("{host} ({why})")));
        }
        let literal_ip: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if let Some(ip) = literal_ip
            && !self.policy.allow_private_network
            && !is_public(ip)
        {
            tracing::warn!(plugin, %host, "plugin HTTP request to a private address refused");
            return Err(Error::ForbiddenHost(format!(
                "{host} (private, loopback or link-local address)"
            )));
        }

        self.requests += 1;
        let remaining = call_deadline.saturating_duration_since(Instant::now());
        let mut timeout = self.limits.request_timeout.min(remaining);
        if let Some(ms) = request.timeout_ms {
            timeout = timeout.min(Duration::from_millis(u64::from(ms)));
        }
        let client = if self.policy.allow_private_network {
            &self.clients.any
        } else {
            &self.clients.public_only
        };
        let mut builder = client.request(method(request.method), url).timeout(timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let started = Instant::now();
        let response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let retry_after_seconds = retry_after(&headers, SystemTime::now());
        let cap = self.limits.max_response_bytes;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(Error::ResponseTooLarge(cap));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(classify)?;
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(Error::ResponseTooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(plugin, %host, status, elapsed_ms = started.elapsed().as_millis() as u64, "plugin HTTP request");
        if let HttpBackend::Record(tape) = &self.policy.backend {
            tape.record(Exchange {
                request: recorded_request,
                response: RecordedResponse {
                    status,
                    headers: headers.clone(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                },
            });
        }
        Ok(Response {
            status,
            headers,
            body,
            retry_after_seconds,
        })
    }
}

fn method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

fn classify(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout;
    }
    if is_refused_by_resolver(&e) {
        return Error::ForbiddenHost(
            "resolves to a private, loopback or link-local address".into(),
        );
    }
    if e.is_builder() || e.is_request() && e.url().is_none() {
        return Error::InvalidRequest(e.to_string());
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Connection(message)
}

fn is_refused_by_resolver(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<PrivateAddressRefused>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The delay a supplier asked for: `Retry-After` (seconds or an HTTP date),
/// else `X-Ratelimit-Reset` / `RateLimit-Reset` (seconds, or a Unix time).
pub(crate) fn retry_after(headers: &[(String, String)], now: SystemTime) -> Option<u32> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    if let Some(value) = find("retry-after") {
        if let Ok(seconds) = value.parse::<u32>() {
            return Some(seconds);
        }
        if let Ok(date) = httpdate::parse_http_date(value) {
            let wait = date.duration_since(now).unwrap_or_default();
            return Some(u32::try_from(wait.as_secs()).unwrap_or(u32::MAX));
        }
    }
    let reset = find("x-ratelimit-reset").or_else(|| find("ratelimit-reset"))?;
    let value: u64 = reset.parse().ok()?;
    // Some APIs send a delay, others a Unix timestamp: anything past 2001
    // (1e9) is a timestamp.
    let seconds = if value > 1_000_000_000 {
        let unix_now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        value.saturating_sub(unix_now)
    } else {
        value
    };
    Some(u32::try_from(seconds).unwrap_or(u32::MAX))
}

/// Headers a plugin may not set: the host derives them from the URL and
/// the body, or owns them for the connection. `Host` would ask an allowed
/// address for another virtual host than the URL names.
const HOST_OWNED_HEADERS: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-authorization",
];

/// Whether an address is on the public internet.
///
/// IPv4 carried inside IPv6 is judged by the IPv4 address: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002::/16`); a local NAT64 prefix (`64:ff9b:1::/48`) is not
/// public. Reserved ranges are not public: IPv4 `0/8`, `100.64/10`,
/// `192.0.0/24`, `198.18/15`, `240/4`, documentation; IPv6 unique local,
/// link-local, site-local (`fec0::/10`), documentation (`2001:db8::/32`),
/// discard (`100::/64`).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                // 100.64.0.0/10, carrier-grade NAT
                || (o[0] == 100 && (64..128).contains(&o[1]))
                // 192.0.0.0/24, IETF protocol assignments
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                // 198.18.0.0/15, benchmarking
                || (o[0] == 198 && (18..20).contains(&o[1]))
                // 240.0.0.0/4, reserved
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            // ::a.b.c.d (IPv4-compatible; `::` and `::1` are not IPv4).
            if s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1) {
                return is_public(IpAddr::V4(embedded(s[6], s[7])));
            }
            // 64:ff9b::/96, NAT64 of the public internet.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(IpAddr::V4(embedded(s[6], s[7])));
            }
            // 2002::/16, 6to4: the IPv4 address is in bits 16 to 48.
            if s[0] == 0x2002 {
                return is_public(IpAddr::V4(embedded(s[1], s[2])));
            }
            let first = s[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                // 64:ff9b:1::/48, local-use NAT64
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                // 2001:db8::/32, documentation
                || (s[0] == 0x2001 && s[1] == 0xdb8)
                // 100::/64, discard
                || (s[0] == 0x100 && s[1..4] == [0, 0, 0]))
        }
    }
}

/// A resolver that drops private addresses, and fails when none is left.
/// The catalog fetch uses it too, for a feed on the public internet.
pub(crate) struct PublicOnlyResolver;

#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to private, loopback or link-local addresses")]
struct PrivateAddressRefused(String);

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(PrivateAddressRefused(host)) as _);
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether a binding's patterns allow `host` on `port`: a pattern names a
/// host (any port) or one port of a host (`127.0.0.1:8080`).
fn allows(patterns: &[HostPattern], host: &str, port: Option<u16>) -> bool {
    let with_port = port.map(|p| format!("{host}:{p}"));
    patterns
        .iter()
        .any(|p| p.matches(host) || with_port.as_deref().is_some_and(|h| p.matches(h)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tape_masks_secrets_in_what_it_records_and_matches() {
        let request = |url: &str, body: &str| RecordedRequest {
            method: "POST".into(),
            url: url.into(),
            body: Some(body.into()),
        };
        let recording = Tape::default().masking(["k3y/s3cret".to_owned(), String::new()]);
        let sent = recording.mask(request(
            "https://api.example.com/orders?key=k3y%2Fs3cret",
            r#"{"token":"k3y/s3cret"}"#,
        ));
        assert_eq!(sent.url, "https://api.example.com/orders?key=[secret]");
        assert_eq!(sent.body.as_deref(), Some(r#"{"token":"[secret]"}"#));
        let response = RecordedResponse {
            status: 201,
            headers: Vec::new(),
            body: "ok".into(),
        };
        recording.record(Exchange {
            request: sent,
            response: response.clone(),
        });
        // Replayed with the same secret, the masked recording answers.
        let replay = Tape::replaying(recording.recorded()).masking(["k3y/s3cret".to_owned()]);
        let again = replay.mask(request(
            "https://api.example.com/orders?key=k3y%2Fs3cret",
            r#"{"token":"k3y/s3cret"}"#,
        ));
        assert_eq!(replay.answer(&again), Some(response));
        assert!(replay.unmatched().is_empty());
    }

    #[test]
    fn a_pattern_may_name_one_port() {
        let only = [HostPattern::new("127.0.0.1:8080")];
        assert!(allows(&only, "127.0.0.1", Some(8080)));
        assert!(!allows(&only, "127.0.0.1", Some(5432)));
        assert!(!allows(&only, "127.0.0.1", None));
        let any_port = [HostPattern::new("127.0.0.1")];
        assert!(allows(&any_port, "127.0.0.1", Some(5432)));
        assert!(!allows(&any_port, "10.0.0.1", Some(80)));
    }

    #[test]
    fn host_patterns() {
        assert!(HostPattern::new("*").matches("anything.example"));
        assert!(HostPattern::new("api.bigbuy.eu").matches("api.bigbuy.eu"));
        assert!(!HostPattern::new("api.bigbuy.eu").matches("evil-api.bigbuy.eu"));
        assert!(HostPattern::new("*.bigbuy.eu").matches("api.bigbuy.eu"));
        assert!(!HostPattern::new("*.bigbuy.eu").matches("bigbuy.eu"));
        assert!(!HostPattern::new("*.bigbuy.eu").matches("evilbigbuy.eu"));
        assert!(HostPattern::new("API.BigBuy.eu.").matches("api.bigbuy.eu"));
    }

    #[test]
    fn private_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            // F19 (issue 14): IPv4 inside IPv6, and reserved ranges.
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "192.0.0.8",
            "240.0.0.1",
            "255.255.255.254",
            "fec0::1",
            "2001:db8::1",
            "100::1",
        ] {
            let ip: IpAddr = private.parse().expect("valid");
            assert!(!is_public(ip), "{private} should be private");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            // A public IPv4 address through NAT64 or 6to4 is public.
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            let ip: IpAddr = public.parse().expect("valid");
            assert!(is_public(ip), "{public} should be public");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert_eq!(retry_after(&h("retry-after", "120"), now), Some(120));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&h("retry-after", &date), now), Some(30));
        assert_eq!(retry_after(&h("x-ratelimit-reset", "7"), now), Some(7));
        assert_eq!(
            retry_after(&h("x-ratelimit-reset", "1700000045"), now),
            Some(45)
        );
        assert_eq!(retry_after(&h("content-type", "json"), now), None);
    }
}
