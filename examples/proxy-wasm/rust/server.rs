// Layotto's demo server, as a dependency-free Rust proxy-wasm function with id "id_2": the
// request body is a book name; answers its stock from state store "state_demo" through
// Layotto's proxy_get_state (an empty body when the book is unknown, as in Layotto).
#[path = "proxy.rs"]
mod proxy;

pub const ID: &str = "id_2";

pub fn on_request_headers(_headers: usize, _end_of_stream: bool) -> u32 {
    proxy::CONTINUE
}

pub fn on_request_body(size: usize, _end_of_stream: bool) -> u32 {
    let key = match proxy::get_buffer(proxy::REQUEST_BODY, 0, size) {
        Ok(key) => String::from_utf8_lossy(&key).into_owned(),
        Err(status) => {
            proxy::log(proxy::LOG_ERROR, &format!("reading the request body failed with status {}", status));
            return proxy::PAUSE;
        }
    };
    match proxy::get_state("state_demo", &key) {
        Ok(value) => {
            proxy::set_buffer(proxy::RESPONSE_BODY, &value);
            proxy::CONTINUE
        }
        Err(status) => {
            proxy::log(proxy::LOG_ERROR, &format!("reading {} from state_demo failed with status {}", key, status));
            let message = format!("state_demo is unavailable (proxy_get_state status {})", status);
            proxy::send_response(500, message.as_bytes(), &[]);
            proxy::PAUSE
        }
    }
}
