//! Calling another deployed function without going through the network
//! (WIT `l8:faas/invoke`). The target must be granted in `capabilities.invoke`.

use crate::abi::{lower_fields, RetArea};
use crate::error::Error;
use crate::http::{Request, Response};
use crate::sys;

/// Sends `request` to the function named `target`, whose routes are matched against
/// the request's method and path. A non-2xx status is a normal `Ok` response; `Err`
/// means the call could not be made (not granted, no such function, timeout, ...).
///
/// ```no_run
/// use l8::{invoke, Request};
/// let response = invoke::call("stock", &Request::new("GET", "/stock/book1"))?;
/// # Ok::<(), l8::Error>(())
/// ```
pub fn call(target: &str, request: &Request) -> Result<Response, Error> {
    let headers = lower_fields(&request.headers);
    let mut ret = RetArea::new();
    // SAFETY: every pointer refers to `target`, `request` or `headers`, all alive during
    // the call; the host writes a result<response, error> into `ret`.
    unsafe {
        sys::invoke_call(
            target.as_ptr(),
            target.len(),
            request.method.as_ptr(),
            request.method.len(),
            request.path.as_ptr(),
            request.path.len(),
            request.query.as_ptr(),
            request.query.len(),
            headers.as_ptr() as *const u8,
            headers.len(),
            request.body.as_ptr(),
            request.body.len(),
            ret.as_mut_ptr(),
        );
        ret.response()
    }
}
