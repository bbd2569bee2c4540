// The smallest proxy-wasm glue an HTTP function needs, with Layotto's two extensions, and
// no crates (it builds with Debian's rustc 1.63 for wasm32-wasi). Each function includes
// it with `#[path = "proxy.rs"] mod proxy;` and defines ID, on_request_headers and
// on_request_body; the callbacks a proxy-wasm host calls are exported here.
#![allow(dead_code)]

use std::ptr::null_mut;

pub type Status = u32;
pub const OK: Status = 0;
pub const NOT_FOUND: Status = 1;

pub const CONTINUE: u32 = 0;
pub const PAUSE: u32 = 1;

pub const REQUEST_BODY: u32 = 0;
pub const RESPONSE_BODY: u32 = 1;
/// Layotto's CallData buffer: proxy_get_id writes the function's id into it.
pub const CALL_DATA: u32 = 8;

pub const REQUEST_HEADERS: u32 = 0;
pub const RESPONSE_HEADERS: u32 = 2;

pub const LOG_INFO: u32 = 2;
pub const LOG_ERROR: u32 = 4;

extern "C" {
    fn proxy_log(level: u32, message: *const u8, size: usize) -> Status;
    fn proxy_get_buffer_bytes(kind: u32, start: usize, max: usize, data: *mut *mut u8, size: *mut usize) -> Status;
    fn proxy_set_buffer_bytes(kind: u32, start: usize, size: usize, data: *const u8, data_size: usize) -> Status;
    fn proxy_get_header_map_value(kind: u32, key: *const u8, key_size: usize, value: *mut *mut u8, value_size: *mut usize) -> Status;
    fn proxy_add_header_map_value(kind: u32, key: *const u8, key_size: usize, value: *const u8, value_size: usize) -> Status;
    fn proxy_send_local_response(
        status: u32,
        details: *const u8,
        details_size: usize,
        body: *const u8,
        body_size: usize,
        headers: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> Status;
    // Layotto's extensions.
    fn proxy_get_state(store: *const u8, store_size: usize, key: *const u8, key_size: usize, value: *mut *mut u8, value_size: *mut usize) -> Status;
    fn proxy_invoke_service(
        id: *const u8,
        id_size: usize,
        method: *const u8,
        method_size: usize,
        param: *const u8,
        param_size: usize,
        result: *mut *mut u8,
        result_size: *mut usize,
    ) -> Status;
}

/// Takes ownership of bytes the host placed with proxy_on_memory_allocate.
unsafe fn owned(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        Vec::new()
    } else {
        Vec::from_raw_parts(data, size, size)
    }
}

pub fn log(level: u32, message: &str) {
    unsafe {
        proxy_log(level, message.as_ptr(), message.len());
    }
}

pub fn get_buffer(kind: u32, start: usize, max: usize) -> Result<Vec<u8>, Status> {
    let mut data = null_mut();
    let mut size = 0;
    unsafe {
        match proxy_get_buffer_bytes(kind, start, max, &mut data, &mut size) {
            OK => Ok(owned(data, size)),
            status => Err(status),
        }
    }
}

/// Replaces the whole buffer.
pub fn set_buffer(kind: u32, value: &[u8]) -> Status {
    unsafe { proxy_set_buffer_bytes(kind, 0, usize::MAX >> 1, value.as_ptr(), value.len()) }
}

pub fn header(kind: u32, name: &str) -> Option<String> {
    let mut data = null_mut();
    let mut size = 0;
    unsafe {
        match proxy_get_header_map_value(kind, name.as_ptr(), name.len(), &mut data, &mut size) {
            OK => Some(String::from_utf8_lossy(&owned(data, size)).into_owned()),
            _ => None,
        }
    }
}

pub fn add_header(kind: u32, name: &str, value: &str) -> Status {
    unsafe { proxy_add_header_map_value(kind, name.as_ptr(), name.len(), value.as_ptr(), value.len()) }
}

/// Serializes headers the proxy-wasm way: count, (key, value) lengths, NUL-terminated bytes.
fn serialize(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(headers.len() as u32).to_le_bytes());
    for (k, v) in headers {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

pub fn send_response(status: u32, body: &[u8], headers: &[(&str, &str)]) -> Status {
    let headers = serialize(headers);
    unsafe { proxy_send_local_response(status, null_mut(), 0, body.as_ptr(), body.len(), headers.as_ptr(), headers.len(), -1) }
}

pub fn get_state(store: &str, key: &str) -> Result<Vec<u8>, Status> {
    let mut data = null_mut();
    let mut size = 0;
    unsafe {
        match proxy_get_state(store.as_ptr(), store.len(), key.as_ptr(), key.len(), &mut data, &mut size) {
            OK => Ok(owned(data, size)),
            status => Err(status),
        }
    }
}

pub fn invoke_service(id: &str, method: &str, param: &[u8]) -> Result<Vec<u8>, Status> {
    let mut data = null_mut();
    let mut size = 0;
    unsafe {
        match proxy_invoke_service(id.as_ptr(), id.len(), method.as_ptr(), method.len(), param.as_ptr(), param.len(), &mut data, &mut size) {
            OK => Ok(owned(data, size)),
            status => Err(status),
        }
    }
}

/// The value of `name` in an `a=1&b=2` string (not percent-decoded, as in Layotto's demo).
pub fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let mut parts = pair.splitn(2, '=');
        if parts.next() == Some(name) {
            Some(parts.next().unwrap_or(""))
        } else {
            None
        }
    })
}

/// Percent-decodes a query value ("%2F" -> "/", "+" -> " ").
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- callbacks a proxy-wasm host calls -------------------------------------------------

#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_0() {}

/// The host hands request data to the guest in memory allocated here.
#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(size);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

#[no_mangle]
pub extern "C" fn proxy_get_id() {
    set_buffer(CALL_DATA, crate::ID.as_bytes());
}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(_root: u32, _size: usize) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(_root: u32, _size: usize) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_context_create(_context: u32, _parent: u32) {}

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(_context: u32, headers: usize, end_of_stream: u32) -> u32 {
    crate::on_request_headers(headers, end_of_stream != 0)
}

#[no_mangle]
pub extern "C" fn proxy_on_request_body(_context: u32, size: usize, end_of_stream: u32) -> u32 {
    crate::on_request_body(size, end_of_stream != 0)
}

#[no_mangle]
pub extern "C" fn proxy_on_done(_context: u32) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_delete(_context: u32) {}
