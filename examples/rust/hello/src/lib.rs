//! `GET /hello`: the smallest L8 function. Logs through the `log` capability and
//! answers with a greeting.

use l8::{Request, Response};

fn handle(_req: Request) -> Response {
    l8::log::info("hello called");
    Response::new(200).with_body("Hello from Rust!")
}

l8::http_handler!(handle);
