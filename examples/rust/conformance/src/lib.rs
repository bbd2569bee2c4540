//! The ABI conformance function (test/conformance/README.md): every route exercises one
//! part of the ABI, and every guest language answers byte for byte the same.

use std::sync::atomic::{AtomicU32, Ordering};

use l8::{config, invoke, lock, log, pubsub, sequencer, state, Error, Message, Request, Response};

/// Module-level state for `GET /conf/global`: 0 in the snapshot, so it shows whether
/// an instance's memory was restored between requests.
static GLOBAL: AtomicU32 = AtomicU32::new(0);

const UNICODE: &str = "héllo wörld ✓ 日本語 🚀";
const TEXT_UTF8: &str = "text/plain; charset=utf-8";

fn handle(req: Request) -> Result<Response, Error> {
    if req.path.starts_with("/conf/echo") {
        return Ok(echo(req));
    }
    let method = req.method.as_str();
    match (method, req.path.as_str()) {
        ("GET", "/conf/unicode") => return Ok(Response::new(200).with_header("content-type", TEXT_UTF8).with_body(UNICODE)),
        ("POST", "/conf/unicode") => {
            let text = req.text();
            let answer = format!("{}:{}", text.chars().count(), text);
            return Ok(Response::new(200).with_header("content-type", TEXT_UTF8).with_body(answer));
        }
        ("GET", "/conf/trap") => panic!("conformance trap requested by GET /conf/trap"),
        ("GET", "/conf/stdout") => {
            println!("conformance stdout line");
            eprintln!("conformance stderr line");
            return Ok(text(200, "printed"));
        }
        ("GET", "/conf/log") => {
            log::info("conformance log line");
            return Ok(text(200, "logged"));
        }
        ("GET", "/conf/big") => return Ok(big(&req)),
        ("GET", "/conf/global") => {
            let value = GLOBAL.fetch_add(1, Ordering::Relaxed) + 1;
            return Ok(text(200, &value.to_string()));
        }
        ("GET", "/conf/spin") => spin(),
        ("GET", "/conf/grow") => return Ok(grow(&req)),
        _ => {}
    }
    if let Some(key) = req.path.strip_prefix("/conf/state/") {
        let store = req.query_param("store").unwrap_or_else(|| "default".to_string());
        match method {
            "GET" => {
                return Ok(match state::get(&store, key)? {
                    Some(value) => Response::new(200).with_header("content-type", "application/octet-stream").with_body(value),
                    None => text(404, "missing"),
                })
            }
            "PUT" => {
                state::set(&store, key, &req.body)?;
                return Ok(Response::new(204));
            }
            "DELETE" => {
                state::delete(&store, key)?;
                return Ok(Response::new(204));
            }
            _ => {}
        }
    }
    if let Some(key) = req.path.strip_prefix("/conf/config/") {
        if method == "GET" {
            return Ok(match config::get(key)? {
                Some(value) => text(200, &value),
                None => text(404, "absent"),
            });
        }
    }
    if let Some(topic) = req.path.strip_prefix("/conf/publish/") {
        if method == "POST" {
            let broker = req.query_param("broker").unwrap_or_else(|| "default".to_string());
            let metadata: Vec<(&str, &str)> = req
                .headers
                .iter()
                .filter_map(|(name, value)| name.strip_prefix("x-meta-").map(|name| (name, value.as_str())))
                .collect();
            let id = pubsub::publish(&broker, topic, &req.body, &metadata)?;
            return Ok(text(200, &id));
        }
    }
    if let Some(target) = req.path.strip_prefix("/conf/invoke/") {
        return invoke_target(target, &req);
    }
    if let Some(resource) = req.path.strip_prefix("/conf/lock/") {
        if let Some(response) = lock_route(method, resource, &req)? {
            return Ok(response);
        }
    }
    if let Some(key) = req.path.strip_prefix("/conf/sequence/") {
        if method == "POST" {
            let store = req.query_param("store").unwrap_or_else(|| "default".to_string());
            let id = sequencer::next_id(&store, key)?;
            return Ok(text(200, &id.to_string()));
        }
    }
    if let Some(code) = req.path.strip_prefix("/conf/status/") {
        if method == "GET" {
            if let Ok(status) = code.parse::<u16>() {
                return Ok(text(status, &format!("status {}", status)));
            }
        }
    }
    Ok(text(404, &format!("no route {} {}", method, req.path)))
}

fn text(status: u16, body: &str) -> Response {
    Response::new(status).with_body(body)
}

fn is_test_header(name: &str) -> bool {
    name.starts_with("x-test-")
}

fn echo(req: Request) -> Response {
    let mut response = Response::new(200)
        .with_header("x-method", req.method.as_str())
        .with_header("x-path", req.path.as_str())
        .with_header("x-query", req.query.as_str())
        .with_header("x-body-length", req.body.len().to_string());
    for (name, value) in req.headers.iter().filter(|(name, _)| is_test_header(name)) {
        response = response.with_header(name.as_str(), value.as_str());
    }
    let content_type = req.header("content-type").unwrap_or("application/octet-stream");
    response.with_header("content-type", content_type).with_body(req.body)
}

fn invoke_target(target: &str, req: &Request) -> Result<Response, Error> {
    let method = req.query_param("method").unwrap_or_else(|| req.method.clone());
    let path = req.query_param("path").unwrap_or_else(|| "/".to_string());
    let mut call = Request::new(method, path).with_body(req.body.clone());
    call.headers = req.headers.iter().filter(|(name, _)| is_test_header(name)).cloned().collect();
    let answer = invoke::call(target, &call)?;
    let mut response = Response::new(answer.status);
    response.headers = answer.headers.into_iter().filter(|(name, _)| is_test_header(name)).collect();
    Ok(response.with_header("x-invoked", target).with_body(answer.body))
}

/// `POST` try-lock, `PUT` keep-alive, `DELETE` unlock; `None` for other methods.
fn lock_route(method: &str, resource: &str, req: &Request) -> Result<Option<Response>, Error> {
    let store = req.query_param("store").unwrap_or_else(|| "default".to_string());
    let owner = req.query_param("owner").unwrap_or_default();
    let answer = match method {
        "POST" | "PUT" => {
            let expire = match seconds_param(req, "expire", 10) {
                Ok(expire) => expire,
                Err(response) => return Ok(Some(response)),
            };
            if method == "POST" {
                match lock::try_lock(&store, resource, &owner, expire)? {
                    true => text(200, "taken"),
                    false => text(409, "busy"),
                }
            } else {
                match lock::keep_alive(&store, resource, &owner, expire)? {
                    true => text(200, "alive"),
                    false => text(409, "lost"),
                }
            }
        }
        "DELETE" => text(200, lock::unlock(&store, resource, &owner)?.as_str()),
        _ => return Ok(None),
    };
    Ok(Some(answer))
}

/// A u32 query parameter written as decimal digits only (`fallback` when absent), or
/// the 400 response saying it is not one. Digits only, so that every language accepts
/// exactly the same strings (Rust's parser alone would also take a leading `+`).
fn seconds_param(req: &Request, name: &str, fallback: u32) -> Result<u32, Response> {
    let raw = match req.query_param(name) {
        Some(raw) => raw,
        None => return Ok(fallback),
    };
    let digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<u32>() {
        Ok(value) if digits => Ok(value),
        _ => Err(text(400, &format!("query parameter '{}' must be an integer from 0 to 4294967295, got '{}'", name, raw))),
    }
}

/// A non-negative integer query parameter, or the 400 response saying it is not one.
fn count_param(req: &Request, name: &str) -> Result<usize, Response> {
    let raw = req.query_param(name).unwrap_or_default();
    raw.parse::<usize>().map_err(|_| {
        text(400, &format!("query parameter '{}' must be a non-negative integer, got '{}'", name, raw))
    })
}

fn big(req: &Request) -> Response {
    let size = match count_param(req, "size") {
        Ok(size) => size,
        Err(response) => return response,
    };
    let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    Response::new(200).with_body(body)
}

fn grow(req: &Request) -> Response {
    let mb = match count_param(req, "mb") {
        Ok(mb) => mb,
        Err(response) => return response,
    };
    // More than the address space can hold fails the allocation (a trap), like any
    // out-of-memory.
    let mut block = vec![0u8; mb.saturating_mul(1 << 20)];
    // Touch one byte per wasm page, through volatile writes so the allocation is not
    // optimised away: the memory must really be committed.
    for offset in (0..block.len()).step_by(65536) {
        // SAFETY: `offset` is within `block`.
        unsafe { std::ptr::write_volatile(block.as_mut_ptr().add(offset), 1) };
    }
    drop(block);
    text(200, &format!("grew {}", mb))
}

/// A runaway guest: no host calls, no end. The host has to interrupt it.
fn spin() -> ! {
    let mut turns: u64 = 0;
    loop {
        // Volatile so the loop does real work on every iteration.
        // SAFETY: `turns` is a live local.
        unsafe { std::ptr::write_volatile(&mut turns, turns.wrapping_add(1)) };
    }
}

fn on_message(msg: Message) -> Result<(), String> {
    if msg.metadata("fail") == Some("always") {
        return Err(format!("asked to fail: {}", msg.id));
    }
    let key = format!("received/{}/{}", msg.topic, msg.id);
    state::set("default", &key, &msg.data).map_err(|error| error.to_string())
}

l8::http_handler!(handle);
l8::subscriber!(on_message);
