//! The error every capability call returns: the WIT `error` record.

use std::fmt;

/// Why a host call failed (WIT `error-code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The function's manifest does not grant this store, topic, config key or target.
    Denied = 0,
    /// The named component (store, broker) or function does not exist.
    NotFound = 1,
    /// The backend is down or did not answer in time; retrying later may work.
    Unavailable = 2,
    /// An argument was rejected (too large, empty name, ...).
    Invalid = 3,
    /// A concurrent change won (optimistic concurrency).
    Conflict = 4,
    /// Anything else; the message says what.
    Internal = 5,
}

impl ErrorCode {
    /// The code's name in the WIT, e.g. `"not-found"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Denied => "denied",
            ErrorCode::NotFound => "not-found",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status a handler usually answers for this code
    /// (403, 404, 503, 400, 409, 500).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Denied => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Unavailable => 503,
            ErrorCode::Invalid => 400,
            ErrorCode::Conflict => 409,
            ErrorCode::Internal => 500,
        }
    }

    /// Decodes the enum byte; a code from a newer host that this SDK does not know
    /// becomes `Internal` (the message still says what happened).
    pub(crate) fn from_byte(byte: u8) -> ErrorCode {
        match byte {
            0 => ErrorCode::Denied,
            1 => ErrorCode::NotFound,
            2 => ErrorCode::Unavailable,
            3 => ErrorCode::Invalid,
            4 => ErrorCode::Conflict,
            _ => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed host call: what kind of failure, and a message that says what was wrong
/// and how to fix it.
///
/// Displays as `<code>: <message>`, e.g.
/// `denied: state store "orders" is not granted to function "stock"; ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}
