//! `GET /greeting?name=X`: `<greeting>, <X>!` with the greeting from config key
//! `greeting` (default `Hello`) and X from the query (default `world`).

use l8::{config, Error, Request, Response};

fn handle(req: Request) -> Result<Response, Error> {
    let greeting = config::get("greeting")?.unwrap_or_else(|| "Hello".to_string());
    let name = req.query_param("name").unwrap_or_else(|| "world".to_string());
    Ok(Response::new(200).with_body(format!("{}, {}!", greeting, name)))
}

l8::http_handler!(handle);
