//! The caps every call into a plugin runs under, and the memory limiter that
//! enforces the memory cap and measures the guest's peak.

use std::time::Duration;

/// Caps of one call (or one feed session) into a plugin.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time of one call. Feed parsing pushes 64 KiB chunks that
    /// take well under a millisecond; order calls wait on the supplier's
    /// HTTP. 30 s covers a slow supplier's two or three requests.
    pub deadline: Duration,
    /// Linear memory of one instance. A streaming parser needs a few MiB
    /// (1.3 MiB was measured for a whole 160 MB feed); 64 MiB leaves room for
    /// a large order batch while keeping 100 concurrent instances under 7 GiB.
    pub memory_bytes: usize,
    /// Bytes returned by one call (records of one chunk, one status batch).
    /// A 64 KiB chunk yields at most a few hundred KiB of records; 16 MiB
    /// stops a plugin that inflates its output without hurting real feeds.
    pub output_bytes: usize,
    /// Caps of the HTTP capability.
    pub http: HttpLimits,
}

/// Caps of the HTTP capability, per call.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Requests per call: an order needs a check, a create and perhaps a
    /// lookup; a status batch one or two pages. 32 leaves room for
    /// pagination and stops a runaway loop.
    pub max_requests_per_call: u32,
    /// Size of one response body: supplier answers are JSON or XML of a few
    /// KiB; 8 MiB allows a large tracking batch.
    pub max_response_bytes: u64,
    /// Time of one request, bounded again by what is left of the call's deadline.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_secs(30),
            memory_bytes: 64 << 20,
            output_bytes: 16 << 20,
            http: HttpLimits::default(),
        }
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_requests_per_call: 32,
            max_response_bytes: 8 << 20,
            request_timeout: Duration::from_secs(20),
        }
    }
}

/// Enforces the memory cap of one store and records its peak. The cap is
/// on all the store's linear memories together: a component of several
/// core modules, each with its memory, has one cap, not one per memory.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit: usize,
    /// The bytes of all linear memories now.
    total: usize,
    peak: usize,
    hit: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: usize) -> Self {
        MemoryLimiter {
            limit,
            total: 0,
            peak: 0,
            hit: false,
        }
    }

    /// The most linear memory the guest has had at once, in bytes.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// Whether the guest asked for more than the cap.
    pub(crate) fn hit(&self) -> bool {
        self.hit
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A new memory grows from 0; linear memories never shrink.
        let total = self.total.saturating_add(desired.saturating_sub(current));
        if total > self.limit || maximum.is_some_and(|max| desired > max) {
            self.hit = true;
            return Ok(false);
        }
        self.total = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; Rust guests use a few hundred.
        // 100k entries is far beyond any real connector.
        Ok(desired <= 100_000 && maximum.is_none_or(|max| desired <= max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter as _;

    /// F14 (issue 14): the cap was per linear memory, so 8 core modules could
    /// take 8 × the cap. It is on the store's memories together.
    #[test]
    fn the_memory_cap_is_on_all_memories_together() -> wasmtime::Result<()> {
        let mib = 1 << 20;
        let mut limiter = MemoryLimiter::new(32 * mib);
        // Two memories of 20 MiB: the second does not fit beside the first.
        assert!(limiter.memory_growing(0, 20 * mib, None)?);
        assert!(!limiter.memory_growing(0, 20 * mib, None)?);
        assert!(limiter.hit());
        // The first grows within what is left, then no further.
        assert!(limiter.memory_growing(20 * mib, 30 * mib, None)?);
        assert!(limiter.memory_growing(0, 2 * mib, None)?);
        assert!(!limiter.memory_growing(2 * mib, 3 * mib, None)?);
        assert_eq!(limiter.peak(), 32 * mib);
        Ok(())
    }
}
