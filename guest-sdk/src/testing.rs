//! A local test harness: on the native target, the host's imports are
//! answered by the test itself, so connector logic runs under a plain
//! `cargo test` in the connector's crate.
//!
//! ```ignore
//! use shopbridge_guest_sdk::testing;
//! testing::set_setting("api-key", "k");
//! testing::respond(|req| {
//!     assert!(req.url.ends_with("/orders"));
//!     Ok(testing::json_response(201, r#"{"id": 42}"#))
//! });
//! ```
//!
//! State is per thread, as `cargo test` runs each test on its own thread.
//! On `wasm32` this module is empty: the real host answers.

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use crate::http::{Error, Request, Response};
    use crate::log::Level;

    type Responder = Box<dyn FnMut(&Request) -> Result<Response, Error>>;

    thread_local! {
        static SETTINGS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
        static RESPONDER: RefCell<Option<Responder>> = const { RefCell::new(None) };
        static REQUESTS: RefCell<Vec<Request>> = const { RefCell::new(Vec::new()) };
        static LOGS: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
    }

    /// Sets a setting for this thread's connector calls.
    pub fn set_setting(name: &str, value: &str) {
        SETTINGS.with(|s| s.borrow_mut().insert(name.to_owned(), value.to_owned()));
    }

    /// Removes every setting, recorded request and log line.
    pub fn reset() {
        SETTINGS.with(|s| s.borrow_mut().clear());
        RESPONDER.with(|r| *r.borrow_mut() = None);
        REQUESTS.with(|r| r.borrow_mut().clear());
        LOGS.with(|l| l.borrow_mut().clear());
    }

    /// Answers every HTTP request of this thread with `responder`.
    pub fn respond(responder: impl FnMut(&Request) -> Result<Response, Error> + 'static) {
        RESPONDER.with(|r| *r.borrow_mut() = Some(Box::new(responder)));
    }

    /// The requests sent so far on this thread.
    pub fn requests() -> Vec<Request> {
        REQUESTS.with(|r| r.borrow().clone())
    }

    /// The log lines written so far on this thread.
    pub fn logs() -> Vec<(Level, String)> {
        LOGS.with(|l| l.borrow().clone())
    }

    /// The shared real-world fixtures folder: `$SHOPBRIDGE_FIXTURES`, else
    /// `default_dir` (a path the caller builds from its `CARGO_MANIFEST_DIR`).
    /// When the folder is absent it says so loudly and returns `None`, so
    /// the caller's own fixtures still run; under CI (`CI` set) it panics
    /// instead, so a CI run never passes without the real-world files.
    pub fn shared_fixtures(default_dir: &str) -> Option<std::path::PathBuf> {
        let dir = std::env::var_os("SHOPBRIDGE_FIXTURES").map_or_else(
            || std::path::PathBuf::from(default_dir),
            std::path::PathBuf::from,
        );
        if dir.is_dir() {
            return Some(dir);
        }
        let message = format!(
            "SHARED FIXTURES ABSENT at {}: the real-world fixture tests did not run (set SHOPBRIDGE_FIXTURES)",
            dir.display()
        );
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("\n!!!!! {message} !!!!!\n");
        None
    }

    /// A response with a JSON body.
    pub fn json_response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: body.as_bytes().to_vec(),
            retry_after_seconds: None,
        }
    }

    pub(crate) fn setting(name: &str) -> Option<String> {
        SETTINGS.with(|s| s.borrow().get(name).cloned())
    }

    pub(crate) fn send(request: &Request) -> Result<Response, Error> {
        REQUESTS.with(|r| r.borrow_mut().push(request.clone()));
        RESPONDER.with(|r| match r.borrow_mut().as_mut() {
            Some(responder) => responder(request),
            None => Err(Error::ForbiddenHost(format!(
                "no test responder registered for {}",
                request.url
            ))),
        })
    }

    pub(crate) fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
        eprintln!("[{level:?}] {message} {fields:?}");
        LOGS.with(|l| l.borrow_mut().push((level, message.to_owned())));
    }
}
