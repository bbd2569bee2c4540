//! HTTP requests and responses (WIT `request` / `response`), used by the handler and by
//! [`crate::invoke::call`].

use std::borrow::Cow;

use crate::error::Error;

/// Prefix of the headers that carry route parameters (`/stock/:name` → `l8-param-name`).
const PARAM_PREFIX: &str = "l8-param-";

/// An HTTP request: the one a handler receives, or one to send with
/// [`crate::invoke::call`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Upper-case method, e.g. `"GET"`.
    pub method: String,
    /// Path without the query string, e.g. `"/stock/book1"`.
    pub path: String,
    /// Raw query string without the leading `?`, `""` when absent.
    pub query: String,
    /// Header names are lower-case; names may repeat and order is kept.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A request with no query, headers or body, e.g. for [`crate::invoke::call`].
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Request {
        Request { method: method.into(), path: path.into(), ..Request::default() }
    }

    /// Sets the raw query string (without `?`).
    pub fn with_query(mut self, query: impl Into<String>) -> Request {
        self.query = query.into();
        self
    }

    /// Appends a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// The first header with this name (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// A route parameter: for the route `GET /stock/:name`, `param("name")` is the
    /// matched segment (the host passes it as the header `l8-param-name`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| {
                n.len() == PARAM_PREFIX.len() + name.len()
                    && n[..PARAM_PREFIX.len()].eq_ignore_ascii_case(PARAM_PREFIX)
                    && n[PARAM_PREFIX.len()..].eq_ignore_ascii_case(name)
            })
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this name, decoded as
    /// `application/x-www-form-urlencoded` (`+` is a space, `%XX` are UTF-8 bytes).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .find_map(|pair| {
                let (raw_name, raw_value) = split_pair(pair);
                if form_decode(raw_name) == name {
                    Some(form_decode(raw_value).into_owned())
                } else {
                    None
                }
            })
    }

    /// Every query parameter in order, decoded like [`Request::query_param`].
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = split_pair(pair);
                (form_decode(name).into_owned(), form_decode(value).into_owned())
            })
            .collect()
    }

    /// The body as text; invalid UTF-8 sequences become U+FFFD.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The id the host gave this request (header `l8-request-id`), for logs.
    pub fn request_id(&self) -> Option<&str> {
        self.header("l8-request-id")
    }
}

/// An HTTP response: the one a handler returns, or the one [`crate::invoke::call`]
/// got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 100–599; anything else makes the host fail the request with 500.
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    /// Appends a header. Hop-by-hop headers (`connection`, `transfer-encoding`, ...)
    /// are dropped by the host.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body: bytes (`Vec<u8>`, `&[u8]`) or text (`String`, `&str`).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// The first header with this name (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text; invalid UTF-8 sequences become U+FFFD.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// A failed host call answered as HTTP: the status for its code (403 denied, 404
/// not-found, 503 unavailable, 400 invalid, 409 conflict, 500 internal) and the body
/// `<code>: <message>` as `text/plain`. This is what lets a handler use `?`.
impl From<Error> for Response {
    fn from(error: Error) -> Response {
        Response::new(error.code.http_status())
            .with_header("content-type", "text/plain")
            .with_body(error.to_string())
    }
}

/// What an HTTP handler may return: a [`Response`], or `Result<Response, E>` where the
/// error converts into a response (as [`Error`] does), so handlers can use `?`.
pub trait IntoResponse {
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl<E: Into<Response>> IntoResponse for Result<Response, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(response) => response,
            Err(error) => error.into(),
        }
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn split_pair(pair: &str) -> (&str, &str) {
    match pair.find('=') {
        Some(at) => (&pair[..at], &pair[at + 1..]),
        None => (pair, ""),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component. A `%` not followed by
/// two hex digits is kept as is (like browsers and WHATWG URLSearchParams), and bytes
/// that are not UTF-8 after decoding become U+FFFD.
pub fn form_decode(input: &str) -> Cow<'_, str> {
    if !input.bytes().any(|b| b == b'+' || b == b'%') {
        return Cow::Borrowed(input);
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b))) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(error) => Cow::Owned(String::from_utf8_lossy(error.as_bytes()).into_owned()),
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn request_with_query(query: &str) -> Request {
        Request::new("GET", "/").with_query(query)
    }

    #[test]
    fn query_param_decodes_form_encoding() {
        let req = request_with_query("a=1&name=J%C3%BCrgen+M%C3%BCller&name=second&flag&empty=");
        assert_eq!(req.query_param("name").as_deref(), Some("Jürgen Müller"));
        assert_eq!(req.query_param("a").as_deref(), Some("1"));
        assert_eq!(req.query_param("flag").as_deref(), Some(""));
        assert_eq!(req.query_param("empty").as_deref(), Some(""));
        assert_eq!(req.query_param("missing"), None);
        assert_eq!(request_with_query("").query_param("a"), None);
    }

    #[test]
    fn query_names_are_decoded_too() {
        let req = request_with_query("first+name=Ann&x%5B%5D=1");
        assert_eq!(req.query_param("first name").as_deref(), Some("Ann"));
        assert_eq!(req.query_param("x[]").as_deref(), Some("1"));
        assert_eq!(
            req.query_pairs(),
            vec![("first name".to_string(), "Ann".to_string()), ("x[]".to_string(), "1".to_string())]
        );
    }

    #[test]
    fn malformed_percent_sequences_are_kept() {
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%41%4"), "A%4");
        assert_eq!(form_decode("%ff"), "\u{fffd}");
        assert_eq!(form_decode("%41"), "A");
    }

    #[test]
    fn headers_and_params_are_case_insensitive() {
        let req = Request::new("GET", "/stock/book1")
            .with_header("l8-param-name", "book1")
            .with_header("content-type", "text/plain")
            .with_header("content-type", "second");
        assert_eq!(req.param("name"), Some("book1"));
        assert_eq!(req.param("Name"), Some("book1"));
        assert_eq!(req.param("nam"), None);
        assert_eq!(req.header("Content-Type"), Some("text/plain"));
        assert_eq!(req.header("x-missing"), None);
    }

    #[test]
    fn errors_become_responses() {
        let response: Response = Error::new(ErrorCode::Denied, "no").into();
        assert_eq!(response.status, 403);
        assert_eq!(response.text(), "denied: no");
        assert_eq!(response.header("content-type"), Some("text/plain"));
        let ok: Result<Response, Error> = Ok(Response::new(204));
        assert_eq!(ok.into_response().status, 204);
        let failed: Result<Response, Error> = Err(Error::new(ErrorCode::Unavailable, "down"));
        assert_eq!(failed.into_response().status, 503);
    }
}
