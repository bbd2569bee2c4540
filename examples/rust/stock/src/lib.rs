//! The demo's stock service.
//!
//! - `PUT /stock/:name` with a non-negative decimal integer as body: stores it in state
//!   `default` under `stock/<name>`, publishes `<name>=<count>` to `stock-changed`, and
//!   answers the count with the message id in `x-message-id`.
//! - `GET /stock/:name`: the stored count, or 404.

use l8::{pubsub, state, Error, Request, Response};

const STORE: &str = "default";
const BROKER: &str = "default";
const TOPIC: &str = "stock-changed";

fn handle(req: Request) -> Result<Response, Error> {
    let name = match req.param("name") {
        Some(name) => name,
        None => return Ok(Response::new(400).with_body("missing route parameter 'name'")),
    };
    match req.method.as_str() {
        "PUT" => put(name, &req.body),
        "GET" => get(name),
        other => Ok(Response::new(405)
            .with_header("allow", "GET, PUT")
            .with_body(format!("stock does not serve {}; use GET or PUT", other))),
    }
}

fn put(name: &str, body: &[u8]) -> Result<Response, Error> {
    if body.is_empty() || !body.iter().all(u8::is_ascii_digit) {
        let got = String::from_utf8_lossy(body);
        return Ok(Response::new(400).with_body(format!("stock count must be a non-negative integer, got '{}'", got)));
    }
    // Only ASCII digits are left, so this is valid UTF-8.
    let count = String::from_utf8_lossy(body);
    state::set(STORE, &format!("stock/{}", name), body)?;
    let id = pubsub::publish(BROKER, TOPIC, format!("{}={}", name, count), &[])?;
    Ok(Response::new(200).with_header("x-message-id", id).with_body(count.into_owned()))
}

fn get(name: &str) -> Result<Response, Error> {
    match state::get(STORE, &format!("stock/{}", name))? {
        Some(count) => Ok(Response::new(200).with_body(count)),
        None => Ok(Response::new(404).with_body(format!("no stock recorded for {}", name))),
    }
}

l8::http_handler!(handle);
