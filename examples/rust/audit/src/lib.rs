//! The demo's audit log.
//!
//! - Subscribed to `stock-changed` on broker `default`: appends `<message id> <data>\n`
//!   to state key `audit` in store `default`.
//! - `GET /audit`: the whole log (empty body if nothing was recorded yet).

use l8::{state, Error, Message, Request, Response};

const STORE: &str = "default";
const KEY: &str = "audit";

fn on_message(msg: Message) -> Result<(), Error> {
    // Read, append, write: two deliveries at once could lose a line; the demo accepts
    // that (a store with optimistic concurrency would answer `conflict` and the host
    // retries the message).
    let mut log = state::get(STORE, KEY)?.unwrap_or_default();
    log.extend_from_slice(msg.id.as_bytes());
    log.push(b' ');
    log.extend_from_slice(&msg.data);
    log.push(b'\n');
    state::set(STORE, KEY, &log)
}

fn handle(_req: Request) -> Result<Response, Error> {
    let log = state::get(STORE, KEY)?.unwrap_or_default();
    Ok(Response::new(200).with_body(log))
}

l8::http_handler!(handle);
l8::subscriber!(on_message);
