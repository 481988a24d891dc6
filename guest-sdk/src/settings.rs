//! The connector's settings for the current binding (the host's `settings`
//! import; on the native target, [`crate::testing`]).

use crate::FeedError;
use crate::OrderError;

/// The value of a setting, its declared default, or `None`.
pub fn get(name: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::shopbridge::connector::settings::get(name)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::setting(name)
    }
}

/// A setting that must be present and not blank.
pub fn require(name: &str) -> Result<String, MissingSetting> {
    match get(name) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(MissingSetting(name.to_owned())),
    }
}

/// A required setting that is absent or blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSetting(pub String);

impl std::fmt::Display for MissingSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "setting '{}' is required", self.0)
    }
}

impl From<MissingSetting> for FeedError {
    fn from(e: MissingSetting) -> Self {
        FeedError::Configuration(e.to_string())
    }
}

impl From<MissingSetting> for OrderError {
    fn from(e: MissingSetting) -> Self {
        OrderError::Configuration(e.to_string())
    }
}
