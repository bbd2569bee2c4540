//! Write L8 functions in Rust.
//!
//! An L8 function is a WebAssembly module that exports an HTTP handler and/or a
//! pub/sub subscriber and imports the runtime's capabilities (state, pub/sub, config,
//! invoke, log, lock, sequencer). This crate is the `l8:faas@0.2.0` ABI (abi/README.md)
//! with safe types:
//!
//! ```no_run
//! use l8::{Request, Response};
//!
//! fn handle(req: Request) -> Result<Response, l8::Error> {
//!     let name = req.param("name").unwrap_or("nobody");
//!     let count = l8::state::get("default", &format!("count/{}", name))?;
//!     Ok(Response::new(200).with_body(count.unwrap_or_default()))
//! }
//!
//! l8::http_handler!(handle);
//! ```
//!
//! Build a `cdylib` for `wasm32-wasi` (`wasm32-wasip1` on Rust >= 1.78) or
//! `wasm32-unknown-unknown`; see abi/rust/README.md for the exact commands.
//!
//! Outside wasm32 the crate still compiles (for `cargo check`, unit tests and IDEs):
//! there, every capability call returns an `internal` error and logs go to stderr.

mod abi;
pub mod config;
mod error;
mod export;
pub mod http;
pub mod invoke;
pub mod lock;
pub mod log;
pub mod pubsub;
pub mod sequencer;
pub mod state;
mod sys;

pub use abi::cabi_realloc;
pub use error::{Error, ErrorCode};
pub use http::{IntoResponse, Request, Response};
pub use lock::UnlockStatus;
pub use pubsub::Message;

/// What the registration macros expand to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::{handle, on_message, post_handle, post_on_message};
}

/// Registers the function's HTTP handler: exports `l8:faas/http-handler@0.2.0#handle`
/// and its `cabi_post_…` companion.
///
/// The handler takes a [`Request`] and returns a [`Response`] or a
/// `Result<Response, E>` where `E: Into<Response>` (such as [`Error`], which answers
/// its code's HTTP status with `<code>: <message>`). Use it once per module:
///
/// ```no_run
/// fn handle(req: l8::Request) -> l8::Response {
///     l8::Response::new(200).with_body(format!("you sent {} bytes", req.body.len()))
/// }
/// l8::http_handler!(handle);
/// ```
#[macro_export]
macro_rules! http_handler {
    ($handler:expr) => {
        const _: () = {
            #[export_name = "l8:faas/http-handler@0.2.0#handle"]
            extern "C" fn __l8_export_handle(
                method: *mut u8,
                method_len: usize,
                path: *mut u8,
                path_len: usize,
                query: *mut u8,
                query_len: usize,
                headers: *mut u8,
                headers_len: usize,
                body: *mut u8,
                body_len: usize,
            ) -> *mut u8 {
                // SAFETY: the host allocated every argument with cabi_realloc and hands
                // ownership to the guest (abi/README.md, "Memory ownership").
                unsafe {
                    $crate::__private::handle(
                        [method, path, query, headers, body],
                        [method_len, path_len, query_len, headers_len, body_len],
                        $handler,
                    )
                }
            }

            #[export_name = "cabi_post_l8:faas/http-handler@0.2.0#handle"]
            extern "C" fn __l8_export_post_handle(area: *mut u8) {
                $crate::__private::post_handle(area)
            }
        };
    };
}

/// Registers the function's pub/sub subscriber: exports
/// `l8:faas/subscriber@0.2.0#on-message` and its `cabi_post_…` companion.
///
/// The subscriber takes a [`Message`] and returns `Result<(), E>` with
/// `E: Display` (a `String`, an [`Error`], ...). `Err` makes the host retry the
/// message with backoff and finally dead-letter it with the error text.
///
/// ```no_run
/// fn on_message(msg: l8::Message) -> Result<(), l8::Error> {
///     l8::state::set("default", &format!("last/{}", msg.topic), &msg.data)
/// }
/// l8::subscriber!(on_message);
/// ```
#[macro_export]
macro_rules! subscriber {
    ($subscriber:expr) => {
        const _: () = {
            #[export_name = "l8:faas/subscriber@0.2.0#on-message"]
            extern "C" fn __l8_export_on_message(
                id: *mut u8,
                id_len: usize,
                broker: *mut u8,
                broker_len: usize,
                topic: *mut u8,
                topic_len: usize,
                data: *mut u8,
                data_len: usize,
                metadata: *mut u8,
                metadata_len: usize,
            ) -> *mut u8 {
                // SAFETY: as for the HTTP handler: the guest owns every argument.
                unsafe {
                    $crate::__private::on_message(
                        [id, broker, topic, data, metadata],
                        [id_len, broker_len, topic_len, data_len, metadata_len],
                        $subscriber,
                    )
                }
            }

            #[export_name = "cabi_post_l8:faas/subscriber@0.2.0#on-message"]
            extern "C" fn __l8_export_post_on_message(area: *mut u8) {
                $crate::__private::post_on_message(area)
            }
        };
    };
}
