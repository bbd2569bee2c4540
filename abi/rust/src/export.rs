//! What the registration macros call: lifts the export's arguments into owned Rust
//! values, runs the user's function, and lowers its result into a static return area
//! that stays valid until the host calls `cabi_post_*`.

use std::fmt::Display;

use crate::abi::{lower_fields, take_bytes, take_fields, take_string, Global, RawField};
use crate::http::{IntoResponse, Request, Response};
use crate::pubsub::Message;

/// A handler's response and the header entries pointing into it, kept alive until the
/// host has copied them out.
struct PendingResponse {
    _response: Response,
    _headers: Vec<RawField>,
}

/// `response` as the host reads it: status, headers ptr/len, body ptr/len (20 bytes on
/// wasm32).
static RESPONSE_AREA: Global<[usize; 5]> = Global::new([0; 5]);
static PENDING_RESPONSE: Global<Option<PendingResponse>> = Global::new(None);

/// `result<_, string>`: tag, error ptr/len (12 bytes on wasm32).
static RESULT_AREA: Global<[usize; 3]> = Global::new([0; 3]);
static PENDING_ERROR: Global<Option<String>> = Global::new(None);

/// Body of the `l8:faas/http-handler@0.2.0#handle` export.
///
/// # Safety
/// Every `(ptr, len)` pair must be owned by the guest as the ABI describes (allocated by
/// the host with `cabi_realloc`, or `len == 0`).
#[doc(hidden)]
pub unsafe fn handle<F, R>(ptrs: [*mut u8; 5], lens: [usize; 5], handler: F) -> *mut u8
where
    F: FnOnce(Request) -> R,
    R: IntoResponse,
{
    // A host that skipped cabi_post for the previous call would otherwise leave its
    // response allocated for good when the instance is reused.
    drop(PENDING_RESPONSE.replace(None));
    let request = Request {
        method: take_string(ptrs[0], lens[0]),
        path: take_string(ptrs[1], lens[1]),
        query: take_string(ptrs[2], lens[2]),
        headers: take_fields(ptrs[3], lens[3]),
        body: take_bytes(ptrs[4], lens[4]),
    };
    let response = handler(request).into_response();
    let headers = lower_fields(&response.headers);
    *RESPONSE_AREA.get() = [
        response.status as usize,
        headers.as_ptr() as usize,
        headers.len(),
        response.body.as_ptr() as usize,
        response.body.len(),
    ];
    // Moving the response does not move its heap buffers, so the pointers above stay valid.
    PENDING_RESPONSE.replace(Some(PendingResponse { _response: response, _headers: headers }));
    RESPONSE_AREA.get() as *mut u8
}

/// Body of `cabi_post_l8:faas/http-handler@0.2.0#handle`: frees the last response.
#[doc(hidden)]
pub fn post_handle(_area: *mut u8) {
    drop(PENDING_RESPONSE.replace(None));
}

/// Body of the `l8:faas/subscriber@0.2.0#on-message` export.
///
/// # Safety
/// As for [`handle`].
#[doc(hidden)]
pub unsafe fn on_message<F, E>(ptrs: [*mut u8; 5], lens: [usize; 5], subscriber: F) -> *mut u8
where
    F: FnOnce(Message) -> Result<(), E>,
    E: Display,
{
    drop(PENDING_ERROR.replace(None));
    let message = Message {
        id: take_string(ptrs[0], lens[0]),
        broker: take_string(ptrs[1], lens[1]),
        topic: take_string(ptrs[2], lens[2]),
        data: take_bytes(ptrs[3], lens[3]),
        metadata: take_fields(ptrs[4], lens[4]),
    };
    *RESULT_AREA.get() = match subscriber(message) {
        Ok(()) => [0, 0, 0],
        Err(error) => {
            let text = error.to_string();
            let area = [1, text.as_ptr() as usize, text.len()];
            PENDING_ERROR.replace(Some(text));
            area
        }
    };
    RESULT_AREA.get() as *mut u8
}

/// Body of `cabi_post_l8:faas/subscriber@0.2.0#on-message`: frees the last error text.
#[doc(hidden)]
pub fn post_on_message(_area: *mut u8) {
    drop(PENDING_ERROR.replace(None));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::cabi_realloc;
    use crate::error::{Error, ErrorCode};
    use std::sync::Mutex;

    /// The export glue uses process-wide statics (one call at a time in wasm); unit
    /// tests run on threads, so they take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// Copies `bytes` into a block from cabi_realloc, as the host does.
    fn host_bytes(bytes: &[u8]) -> (*mut u8, usize) {
        if bytes.is_empty() {
            return (1 as *mut u8, 0);
        }
        unsafe {
            let ptr = cabi_realloc(std::ptr::null_mut(), 0, 1, bytes.len());
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
            (ptr, bytes.len())
        }
    }

    fn host_fields(fields: &[(&str, &str)]) -> (*mut u8, usize) {
        let entries: Vec<RawField> = fields
            .iter()
            .map(|(n, v)| {
                let (np, nl) = host_bytes(n.as_bytes());
                let (vp, vl) = host_bytes(v.as_bytes());
                [np as usize, nl, vp as usize, vl]
            })
            .collect();
        if entries.is_empty() {
            return (std::mem::align_of::<RawField>() as *mut u8, 0);
        }
        let size = std::mem::size_of::<RawField>() * entries.len();
        unsafe {
            let ptr = cabi_realloc(std::ptr::null_mut(), 0, std::mem::align_of::<RawField>(), size);
            std::ptr::copy_nonoverlapping(entries.as_ptr() as *const u8, ptr, size);
            (ptr, entries.len())
        }
    }

    /// Counts the bytes each thread has allocated and not freed, so a test can tell
    /// whether a call gave back everything the guest and the "host" allocated.
    mod counting {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            static LIVE: Cell<isize> = const { Cell::new(0) };
        }

        fn add(delta: isize) {
            let _ = LIVE.try_with(|live| live.set(live.get() + delta));
        }

        pub fn live() -> isize {
            LIVE.with(|live| live.get())
        }

        pub struct Counting;

        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                add(layout.size() as isize);
                System.alloc(layout)
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                add(-(layout.size() as isize));
                System.dealloc(ptr, layout)
            }
            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                add(new_size as isize - layout.size() as isize);
                System.realloc(ptr, layout, new_size)
            }
        }

        #[global_allocator]
        static ALLOCATOR: Counting = Counting;
    }

    unsafe fn read_bytes(ptr: usize, len: usize) -> Vec<u8> {
        if len == 0 {
            return Vec::new();
        }
        std::slice::from_raw_parts(ptr as *const u8, len).to_vec()
    }

    #[test]
    fn handle_lifts_the_request_and_lowers_the_response() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (m, ml) = host_bytes(b"POST");
        let (p, pl) = host_bytes("/conf/échø".as_bytes());
        let (q, ql) = host_bytes(b"");
        let (h, hl) = host_fields(&[("x-test-a", "1"), ("l8-param-name", "book1"), ("x-test-a", "")]);
        let (b, bl) = host_bytes(&[0, 1, 2, 255]);
        let area = unsafe {
            handle([m, p, q, h, b], [ml, pl, ql, hl, bl], |req: Request| {
                assert_eq!(req.method, "POST");
                assert_eq!(req.path, "/conf/échø");
                assert_eq!(req.query, "");
                assert_eq!(req.param("name"), Some("book1"));
                assert_eq!(req.headers.len(), 3);
                assert_eq!(req.headers[2], ("x-test-a".to_string(), String::new()));
                assert_eq!(req.body, vec![0, 1, 2, 255]);
                Response::new(201).with_header("x-one", "1").with_header("x-two", "").with_body(req.body)
            })
        };
        let words = unsafe { std::slice::from_raw_parts(area as *const usize, 5).to_vec() };
        assert_eq!(words[0], 201);
        assert_eq!(words[2], 2);
        let entries = unsafe { std::slice::from_raw_parts(words[1] as *const RawField, words[2]).to_vec() };
        unsafe {
            assert_eq!(read_bytes(entries[0][0], entries[0][1]), b"x-one");
            assert_eq!(read_bytes(entries[0][2], entries[0][3]), b"1");
            assert_eq!(read_bytes(entries[1][0], entries[1][1]), b"x-two");
            assert_eq!(entries[1][3], 0);
            assert_eq!(read_bytes(words[3], words[4]), vec![0, 1, 2, 255]);
        }
        post_handle(area);
        assert!(unsafe { (*PENDING_RESPONSE.get()).is_none() });
    }

    #[test]
    fn handler_errors_map_to_statuses() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let empty = (1 as *mut u8, 0);
        let area = unsafe {
            handle([empty.0; 5], [0; 5], |_req: Request| -> Result<Response, Error> {
                Err(Error::new(ErrorCode::Conflict, "lost the race"))
            })
        };
        let words = unsafe { std::slice::from_raw_parts(area as *const usize, 5).to_vec() };
        assert_eq!(words[0], 409);
        assert_eq!(unsafe { read_bytes(words[3], words[4]) }, b"conflict: lost the race");
        post_handle(area);
    }

    #[test]
    fn on_message_returns_ok_or_the_error_text() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let args = || {
            let (i, il) = host_bytes(b"m-1");
            let (b, bl) = host_bytes(b"default");
            let (t, tl) = host_bytes(b"conf-events");
            let (d, dl) = host_bytes(b"payload");
            let (md, mdl) = host_fields(&[("fail", "always")]);
            ([i, b, t, d, md], [il, bl, tl, dl, mdl])
        };
        let (ptrs, lens) = args();
        let area = unsafe {
            on_message(ptrs, lens, |msg: Message| -> Result<(), String> {
                assert_eq!(msg.id, "m-1");
                assert_eq!(msg.broker, "default");
                assert_eq!(msg.topic, "conf-events");
                assert_eq!(msg.text(), "payload");
                Err(format!("asked to fail: {}", msg.id))
            })
        };
        let words = unsafe { std::slice::from_raw_parts(area as *const usize, 3).to_vec() };
        assert_eq!(words[0], 1);
        assert_eq!(unsafe { read_bytes(words[1], words[2]) }, b"asked to fail: m-1");
        post_on_message(area);

        let (ptrs, lens) = args();
        let area = unsafe { on_message(ptrs, lens, |_msg: Message| -> Result<(), Error> { Ok(()) }) };
        assert_eq!(unsafe { *(area as *const usize) }, 0);
        post_on_message(area);
    }

    #[test]
    fn calls_free_everything_they_allocate() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let http = || {
            let (m, ml) = host_bytes(b"PUT");
            let (p, pl) = host_bytes(b"/conf/state/key");
            let (q, ql) = host_bytes(b"store=default");
            let (h, hl) = host_fields(&[("x-test-a", "1"), ("content-type", "text/plain")]);
            let (b, bl) = host_bytes(&[7; 4096]);
            let area = unsafe {
                handle([m, p, q, h, b], [ml, pl, ql, hl, bl], |req: Request| -> Result<Response, Error> {
                    // Outside wasm this is an `internal` error whose message the "host"
                    // allocated: its memory must be freed with the error.
                    let stored = crate::state::get("default", &req.path).unwrap_err();
                    assert_eq!(stored.code, ErrorCode::Internal);
                    // The same for the results of ABI 0.2.0, including result<u64, error>
                    // whose error record sits at another offset.
                    assert!(crate::lock::unlock("default", &req.path, "me").is_err());
                    assert!(crate::sequencer::next_id("default", &req.path).is_err());
                    Ok(Response::new(200).with_header("x-stored", stored.message).with_body(req.body))
                })
            };
            post_handle(area);
        };
        let message = || {
            let (i, il) = host_bytes(b"m-1");
            let (b, bl) = host_bytes(b"default");
            let (t, tl) = host_bytes(b"topic");
            let (d, dl) = host_bytes(&[1; 1000]);
            let (md, mdl) = host_fields(&[("fail", "always"), ("k", "v")]);
            let area = unsafe {
                on_message([i, b, t, d, md], [il, bl, tl, dl, mdl], |msg: Message| -> Result<(), String> {
                    Err(format!("asked to fail: {}", msg.id))
                })
            };
            post_on_message(area);
        };
        let before = counting::live();
        for _ in 0..100 {
            http();
            message();
        }
        assert_eq!(counting::live(), before, "bytes still allocated after 100 calls and their cabi_post");
    }
}
