//! Why a call into a plugin failed on the host's side (as opposed to the
//! plugin's own typed answers, `FeedError` and `OrderError`).

use std::time::Duration;

/// A failure of the sandbox or of the component itself. The call that hit it
/// is lost; the host and every other plugin go on.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The bytes are not a component this host can compile.
    #[error("not a valid WebAssembly component: {0}")]
    InvalidComponent(String),
    /// The component is valid but needs more than one instance may have
    /// here (core instances, memories, tables, their sizes): the pooling
    /// allocator's per-instance limits.
    #[error("the component needs more than a plugin instance may have on this host: {0}")]
    OverLimits(String),
    /// The component does not fit the `shopbridge:connector` contract.
    #[error("component does not fit the shopbridge:connector@0.1 contract: {0}")]
    Contract(String),
    /// The component imports something the host does not lend (a kind of
    /// contract mismatch, told apart so that an upload can say so).
    #[error("component does not fit the shopbridge:connector@0.1 contract: {0}")]
    ForbiddenImport(String),
    /// The plugin ran past its wall-clock deadline and was stopped.
    #[error("plugin '{plugin}' exceeded its {deadline:?} deadline and was stopped")]
    Deadline {
        /// The plugin's name.
        plugin: String,
        /// The deadline of the call.
        deadline: Duration,
    },
    /// The plugin asked for more memory than its cap.
    #[error("plugin '{plugin}' exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// The plugin's name.
        plugin: String,
        /// The cap.
        limit_bytes: usize,
    },
    /// The plugin returned more data from one call than the cap.
    #[error(
        "plugin '{plugin}' returned {bytes} bytes from one call, more than the {limit_bytes} allowed"
    )]
    OutputTooLarge {
        /// The plugin's name.
        plugin: String,
        /// What it returned; the cap + 1 when it was stopped while being
        /// copied (all that is known then is that it is larger).
        bytes: usize,
        /// The cap.
        limit_bytes: usize,
    },
    /// The plugin trapped (a panic, an `unreachable`, an out-of-bounds access…).
    #[error("plugin '{plugin}' crashed: {message}")]
    Trap {
        /// The plugin's name.
        plugin: String,
        /// wasmtime's description of the trap.
        message: String,
    },
    /// The pool of instances is exhausted or the engine refused to instantiate.
    #[error("could not instantiate plugin '{plugin}': {message}")]
    Instantiate {
        /// The plugin's name.
        plugin: String,
        /// The engine's reason.
        message: String,
    },
    /// A previous call on this session failed; the session cannot be used again.
    #[error("plugin '{plugin}' session is unusable after an earlier failure")]
    Poisoned {
        /// The plugin's name.
        plugin: String,
    },
}
