//! Timing for the bench binaries: the median of several batches, so that one
//! noisy batch (the other core busy, a page-fault storm) does not move the figure.

use std::time::{Duration, Instant};

/// Median time of one iteration of `f`, over `batches` batches of `per_batch`
/// iterations, after one warm-up batch.
pub fn median_per_iteration(batches: usize, per_batch: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..per_batch {
        f();
    }
    let mut samples: Vec<Duration> = (0..batches.max(1))
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            started.elapsed() / per_batch.max(1)
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}
