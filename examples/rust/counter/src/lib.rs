//! `POST /counter/:name`: adds 1 to the decimal counter in state key `counter/<name>`
//! (missing = 0) and answers the new value.

use l8::{state, Error, Request, Response};

const STORE: &str = "default";

fn handle(req: Request) -> Result<Response, Error> {
    let name = match req.param("name") {
        Some(name) => name,
        None => return Ok(Response::new(400).with_body("missing route parameter 'name'")),
    };
    let key = format!("counter/{}", name);
    let current = match state::get(STORE, &key)? {
        None => 0,
        Some(bytes) => match std::str::from_utf8(&bytes).ok().and_then(|text| text.parse::<u64>().ok()) {
            Some(value) => value,
            None => {
                let shown = String::from_utf8_lossy(&bytes);
                return Ok(Response::new(500).with_body(format!(
                    "state key '{}' holds '{}', which is not a counter; delete it to start again",
                    key, shown
                )));
            }
        },
    };
    let next = current.saturating_add(1).to_string();
    state::set(STORE, &key, &next)?;
    Ok(Response::new(200).with_body(next))
}

l8::http_handler!(handle);
