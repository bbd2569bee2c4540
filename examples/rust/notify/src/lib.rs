//! `POST /notify/:topic`: publishes the request body to `<topic>` on broker `default`
//! and answers 202 with the message id.

use l8::{pubsub, Error, Request, Response};

fn handle(req: Request) -> Result<Response, Error> {
    let topic = match req.param("topic") {
        Some(topic) => topic,
        None => return Ok(Response::new(400).with_body("missing route parameter 'topic'")),
    };
    let id = pubsub::publish("default", topic, &req.body, &[])?;
    Ok(Response::new(202).with_body(id))
}

l8::http_handler!(handle);
