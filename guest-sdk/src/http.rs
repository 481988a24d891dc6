//! Outbound HTTP through the host (the `http` import; on the native target,
//! the responses a test registered with [`crate::testing`]).
//!
//! The host only lets a request through to a host that the connector's
//! metadata declares and its binding allows, caps the number of requests per
//! call, the size of a response and its time, and turns `Retry-After` into
//! [`Response::retry_after_seconds`].

pub use crate::bindings::shopbridge::connector::http::{Error, Method, Request, Response};
use crate::{OrderError, TransientFailure};

/// Sends a request and waits for the whole response.
pub fn send(request: &Request) -> Result<Response, Error> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::shopbridge::connector::http::send(request)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::send(request)
    }
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body and its content type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers
            .push(("content-type".to_owned(), content_type.to_owned()));
        self.body = Some(body.into());
        self
    }

    /// Sends it.
    pub fn send(&self) -> Result<Response, Error> {
        send(self)
    }
}

impl Response {
    /// The first value of a header (names are lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The usual mapping of a supplier's non-2xx answer onto an order error:
    /// 429 and 5xx are transient (with the delay the supplier asked for),
    /// anything else is a rejection quoting the supplier's body.
    pub fn to_order_error(&self) -> OrderError {
        if self.status == 429 || self.status >= 500 {
            OrderError::Transient(TransientFailure {
                message: format!("supplier answered {}", self.status),
                retry_after_seconds: self.retry_after_seconds,
            })
        } else {
            let mut text = self.text();
            text.truncate(500);
            OrderError::Rejected(format!("supplier answered {}: {}", self.status, text))
        }
    }
}

/// A sentence for a person describing an HTTP error.
pub fn describe(e: &Error) -> String {
    match e {
        Error::ForbiddenHost(h) => format!("host '{h}' is not allowed"),
        Error::InvalidRequest(m) => format!("invalid request: {m}"),
        Error::TooManyRequests(n) => format!("more than {n} requests in one call"),
        Error::ResponseTooLarge(n) => format!("response larger than {n} bytes"),
        Error::Timeout => "timed out".to_owned(),
        Error::Connection(m) => format!("connection failed: {m}"),
    }
}

impl From<Error> for OrderError {
    /// A connection problem or timeout is worth retrying; a refused host or
    /// a bad request is a configuration problem.
    fn from(e: Error) -> Self {
        match e {
            Error::Timeout | Error::Connection(_) | Error::ResponseTooLarge(_) => {
                OrderError::Transient(TransientFailure {
                    message: describe(&e),
                    retry_after_seconds: None,
                })
            }
            Error::TooManyRequests(_) => OrderError::Transient(TransientFailure {
                message: describe(&e),
                retry_after_seconds: None,
            }),
            Error::ForbiddenHost(_) | Error::InvalidRequest(_) => {
                OrderError::Configuration(describe(&e))
            }
        }
    }
}
