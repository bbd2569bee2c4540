// Layotto's demo client, as a dependency-free Rust proxy-wasm function with id "id_1":
// reads `name` (and optionally `target`, default "id_2") from the request body — the query
// string when the request has no body — asks the target function for the stock of that
// book through Layotto's proxy_invoke_service, and answers
// "There are <n> inventories for <name>.".
#[path = "proxy.rs"]
mod proxy;

pub const ID: &str = "id_1";

pub fn on_request_headers(_headers: usize, _end_of_stream: bool) -> u32 {
    proxy::CONTINUE
}

pub fn on_request_body(size: usize, _end_of_stream: bool) -> u32 {
    let body = match proxy::get_buffer(proxy::REQUEST_BODY, 0, size) {
        Ok(body) => body,
        Err(status) => {
            proxy::log(proxy::LOG_ERROR, &format!("reading the request body failed with status {}", status));
            return proxy::PAUSE;
        }
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    let name = match proxy::param(&body, "name") {
        Some(name) => name,
        None => {
            proxy::send_response(400, b"missing parameter 'name'", &[("content-type", "text/plain")]);
            return proxy::PAUSE;
        }
    };
    let target = proxy::param(&body, "target").unwrap_or("id_2");
    match proxy::invoke_service(target, "", name.as_bytes()) {
        Ok(count) => {
            let answer = format!("There are {} inventories for {}.", String::from_utf8_lossy(&count), name);
            proxy::set_buffer(proxy::RESPONSE_BODY, answer.as_bytes());
            proxy::CONTINUE
        }
        Err(status) => {
            proxy::log(proxy::LOG_ERROR, &format!("invoking {} failed with status {}", target, status));
            let message = format!("{} is unavailable (proxy_invoke_service status {})", target, status);
            proxy::send_response(502, message.as_bytes(), &[("content-type", "text/plain")]);
            proxy::PAUSE
        }
    }
}
