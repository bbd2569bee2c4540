//! `GET /inventory?name=X`: asks the `stock` function (through invoke, not the network)
//! how many X there are, and says so in a sentence.

use l8::{invoke, Request, Response};

fn handle(req: Request) -> Response {
    let name = match req.query_param("name") {
        Some(name) if !name.is_empty() => name,
        _ => return Response::new(400).with_body("missing query parameter 'name'"),
    };
    let path = format!("/stock/{}", encode_segment(&name));
    match invoke::call("stock", &Request::new("GET", path)) {
        Ok(stock) if stock.status == 200 => {
            Response::new(200).with_body(format!("There are {} inventories for {}.", stock.text(), name))
        }
        Ok(stock) if stock.status == 404 => Response::new(404).with_body(format!("There is no inventory for {}.", name)),
        Ok(stock) => Response::new(502).with_body(format!(
            "stock is unavailable: it answered {}: {}",
            stock.status,
            stock.text()
        )),
        Err(error) => Response::new(502).with_body(format!("stock is unavailable: {}", error.message)),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a name with `/`,
/// `?` or spaces stays one path segment of the invoked route.
fn encode_segment(segment: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(segment.len());
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

l8::http_handler!(handle);
