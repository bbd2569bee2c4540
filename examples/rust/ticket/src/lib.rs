//! ticket (ABI 0.2): hands out numbered tickets per queue, one request at a time.
//!
//! `POST /ticket/:queue` takes lock `queue/<queue>` in lock store `default` for 5 s
//! (owner: this request's id). If someone else holds it, 409 `queue <queue> is busy`;
//! otherwise the next id of key `<queue>` from sequencer `default`, then unlock and 200
//! `ticket <id>`. Failed host calls answer their error's status (`Error` → `Response`).

use l8::{lock, sequencer, Error, Request, Response};

const LOCK_STORE: &str = "default";
const SEQUENCER: &str = "default";
/// Long enough for one sequencer call; short enough that a crashed request does not
/// block the queue for long.
const LEASE_SECONDS: u32 = 5;

fn handle(req: Request) -> Result<Response, Error> {
    let queue = req.param("queue").unwrap_or_default();
    // The host gives every request a unique id: a natural owner that no other request
    // can unlock by accident.
    let owner = req.request_id().unwrap_or_default();
    let resource = format!("queue/{}", queue);
    if !lock::try_lock(LOCK_STORE, &resource, owner, LEASE_SECONDS)? {
        return Ok(text(409, format!("queue {} is busy", queue)));
    }
    let id = sequencer::next_id(SEQUENCER, queue);
    // Unlock whether or not the sequencer answered, so a failure does not block the
    // queue for the rest of the lease. A lease that ran out meanwhile (any status but
    // success) does not void the ticket: the sequencer alone keeps ids unique.
    let unlocked = lock::unlock(LOCK_STORE, &resource, owner);
    let id = id?;
    unlocked?;
    Ok(text(200, format!("ticket {}", id)))
}

fn text(status: u16, body: String) -> Response {
    Response::new(status).with_header("content-type", "text/plain; charset=utf-8").with_body(body)
}

l8::http_handler!(handle);
