//! Canonical-ABI plumbing: `cabi_realloc`, taking ownership of memory the host
//! allocated, lowering our values for imports, and reading import result areas.
//!
//! Every field of every L8 result area sits at a multiple of 4 bytes (see the layout
//! tables in abi/README.md), so an area is modelled as an array of `usize` words: on
//! wasm32 a word is exactly one 4-byte slot, and a `u8`/`u16` field is the low bits of
//! its word (wasm is little-endian and the areas start zeroed). On a 64-bit host (only
//! used for `cargo check` and unit tests) the same code stays self-consistent.

use std::alloc::{self, Layout};
use std::cell::UnsafeCell;

use crate::error::{Error, ErrorCode};
use crate::http::Response;

/// Allocator entry point the host uses to place strings, lists and header arrays in
/// guest memory (`cabi_realloc(0, 0, align, size)`). Follows the canonical ABI:
/// `old_size == 0` allocates, `new_size == 0` frees, anything else reallocates.
///
/// # Safety
/// `old_ptr`/`old_size`/`align` must describe a block this function returned before
/// (or be `0, 0`), exactly as the canonical ABI requires of its callers.
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    // An invalid alignment (not a power of two) is a broken host: trap rather than guess.
    let old_layout = match Layout::from_size_align(old_size, align) {
        Ok(layout) => layout,
        Err(_) => std::process::abort(),
    };
    if new_size == 0 {
        if old_size != 0 {
            alloc::dealloc(old_ptr, old_layout);
        }
        // The canonical ABI wants a non-null, aligned pointer even for empty values;
        // nothing is ever read through it.
        return align as *mut u8;
    }
    let new_layout = match Layout::from_size_align(new_size, align) {
        Ok(layout) => layout,
        Err(_) => std::process::abort(),
    };
    let ptr = if old_size == 0 {
        alloc::alloc(new_layout)
    } else {
        alloc::realloc(old_ptr, old_layout, new_size)
    };
    if ptr.is_null() {
        // Prints "memory allocation of N bytes failed" to stderr, then traps.
        alloc::handle_alloc_error(new_layout);
    }
    ptr
}

/// A `static` the export glue keeps its return areas and pending results in.
/// Functions are single-threaded wasm instances, and the host never starts a second
/// call on an instance before the first one (and its `cabi_post_*`) finished.
pub(crate) struct Global<T>(UnsafeCell<T>);

// SAFETY: see above; the export glue is the only user, and a wasm instance runs one
// call at a time.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub(crate) const fn new(value: T) -> Self {
        Global(UnsafeCell::new(value))
    }

    pub(crate) fn replace(&self, value: T) -> T {
        // SAFETY: one call at a time (see the type's comment); no reference escapes.
        unsafe { std::mem::replace(&mut *self.0.get(), value) }
    }

    pub(crate) fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// Takes ownership of `len` bytes the host allocated with `cabi_realloc(0, 0, 1, len)`.
/// A zero length owns nothing: the host may pass any dangling pointer with it.
///
/// # Safety
/// `ptr` must come from `cabi_realloc` with align 1 and size `len`, and not be owned by
/// anything else.
pub(crate) unsafe fn take_bytes(ptr: *mut u8, len: usize) -> Vec<u8> {
    if len == 0 {
        Vec::new()
    } else {
        // The block was allocated with Layout(len, 1): exactly what a Vec<u8> of
        // capacity `len` frees with, so the Vec can own it without a copy.
        Vec::from_raw_parts(ptr, len, len)
    }
}

/// Like [`take_bytes`] for a string. The L8 host only sends valid UTF-8; anything else
/// (another canonical-ABI host gone wrong) is repaired with U+FFFD rather than trusted.
pub(crate) unsafe fn take_string(ptr: *mut u8, len: usize) -> String {
    match String::from_utf8(take_bytes(ptr, len)) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    }
}

/// One `fields` entry as laid out in memory: name ptr/len, value ptr/len.
pub(crate) type RawField = [usize; 4];

/// Takes ownership of a `fields` list the host allocated (the entry array with align 4,
/// each name and value with align 1), freeing the array once the strings are moved out.
pub(crate) unsafe fn take_fields(ptr: *mut u8, len: usize) -> Vec<(String, String)> {
    if len == 0 {
        return Vec::new();
    }
    let entries: Vec<RawField> = Vec::from_raw_parts(ptr as *mut RawField, len, len);
    entries
        .iter()
        .map(|e| (take_string(e[0] as *mut u8, e[1]), take_string(e[2] as *mut u8, e[3])))
        .collect()
}

/// Lowers fields for the host to read during one call. The entries point into
/// `fields`, which must outlive the call.
pub(crate) fn lower_fields<N: AsRef<str>, V: AsRef<str>>(fields: &[(N, V)]) -> Vec<RawField> {
    fields
        .iter()
        .map(|(name, value)| {
            let (name, value) = (name.as_ref(), value.as_ref());
            [name.as_ptr() as usize, name.len(), value.as_ptr() as usize, value.len()]
        })
        .collect()
}

/// The area an import writes its result into (`retptr`): 24 bytes, align 4 on wasm32,
/// enough for the largest result, `result<response, error>`.
#[repr(C)]
pub(crate) struct RetArea([usize; 6]);

impl RetArea {
    pub(crate) fn new() -> Self {
        RetArea([0; 6])
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr() as *mut u8
    }

    /// The `u8` at byte offset `4 * slot`.
    fn byte(&self, slot: usize) -> u8 {
        self.0[slot] as u8
    }

    fn is_err(&self) -> bool {
        self.byte(0) != 0
    }

    /// The `error` of an `err` result: code at offset 4, message at 8/12.
    unsafe fn error(&self) -> Error {
        Error {
            code: ErrorCode::from_byte(self.byte(1)),
            message: take_string(self.0[2] as *mut u8, self.0[3]),
        }
    }

    /// Reads `result<_, error>`.
    pub(crate) unsafe fn unit(&self) -> Result<(), Error> {
        if self.is_err() {
            return Err(self.error());
        }
        Ok(())
    }

    /// Reads `result<option<list<u8>>, error>`.
    pub(crate) unsafe fn option_bytes(&self) -> Result<Option<Vec<u8>>, Error> {
        if self.is_err() {
            return Err(self.error());
        }
        if self.byte(1) == 0 {
            return Ok(None);
        }
        Ok(Some(take_bytes(self.0[2] as *mut u8, self.0[3])))
    }

    /// Reads `result<option<string>, error>`.
    pub(crate) unsafe fn option_string(&self) -> Result<Option<String>, Error> {
        if self.is_err() {
            return Err(self.error());
        }
        if self.byte(1) == 0 {
            return Ok(None);
        }
        Ok(Some(take_string(self.0[2] as *mut u8, self.0[3])))
    }

    /// Reads `result<string, error>`.
    pub(crate) unsafe fn string(&self) -> Result<String, Error> {
        if self.is_err() {
            return Err(self.error());
        }
        Ok(take_string(self.0[1] as *mut u8, self.0[2]))
    }

    /// Reads `result<response, error>`.
    pub(crate) unsafe fn response(&self) -> Result<Response, Error> {
        if self.is_err() {
            return Err(self.error());
        }
        Ok(Response {
            status: self.0[1] as u16,
            headers: take_fields(self.0[2] as *mut u8, self.0[3]),
            body: take_bytes(self.0[4] as *mut u8, self.0[5]),
        })
    }

    /// Writes an `err` result the way a host would (used by the non-wasm fallback so
    /// that the same reading code runs everywhere).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn write_error(area: *mut u8, code: ErrorCode, message: &str) {
        let words = area as *mut usize;
        // SAFETY: `area` is a RetArea handed to an import; the message is placed in a
        // block from cabi_realloc, so the reader can take ownership of it.
        unsafe {
            let text = cabi_realloc(std::ptr::null_mut(), 0, 1, message.len());
            std::ptr::copy_nonoverlapping(message.as_ptr(), text, message.len());
            *words = 1;
            *words.add(1) = code as usize;
            *words.add(2) = text as usize;
            *words.add(3) = message.len();
        }
    }
}
