//! Structured logs (WIT `l8:faas/log`). The host tags every line with the function's
//! name and the request id. Plain `println!`/`eprintln!` also work on wasm32-wasi
//! (stdout becomes `info`, stderr `warn`).

use crate::sys;

/// Log level (WIT `log.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

/// Writes one log line at `level`.
pub fn write(level: Level, message: &str) {
    // SAFETY: the host only reads the message during the call.
    unsafe { sys::log_write(level as i32, message.as_ptr(), message.len()) }
}

pub fn trace(message: &str) {
    write(Level::Trace, message)
}

pub fn debug(message: &str) {
    write(Level::Debug, message)
}

pub fn info(message: &str) {
    write(Level::Info, message)
}

pub fn warn(message: &str) {
    write(Level::Warn, message)
}

pub fn error(message: &str) {
    write(Level::Error, message)
}
