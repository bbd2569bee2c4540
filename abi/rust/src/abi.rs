//! Canonical-ABI plumbing: `cabi_realloc`, taking ownership of memory the host
//! allocated, lowering our values for imports, and reading import result areas.
//!
//! Every field of every L8 result area sits at a multiple of 4 bytes (see the layout
//! tables in abi/README.md), so an area is modelled as an array of `usize` words: on
//! wasm32 a word is exactly one 4-byte slot, and a `u8`/`u16` field is the low bits of
//! its word (wasm is little-endian and the areas start zeroed); the one 64-bit field, the
//! id of `result<u64, error>`, is two words, low half first. On a 64-bit host (only used
//! for `cargo check` and unit tests) the same code stays self-consistent.

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

/// The area an import writes its result into (`retptr`): 24 bytes, enough for the
/// largest results (`result<response, error>`, `result<u64, error>`), aligned to 8
/// because `result<u64, error>` is.
#[repr(C, align(8))]
pub(crate) struct RetArea([usize; 6]);

impl RetArea {
    /// Slot of the payload (the ok value or the error record) of most results: offset 4.
    pub(crate) const PAYLOAD: usize = 1;
    /// Slot of the payload of `result<u64, error>`: offset 8, since a u64 is 8-byte
    /// aligned (abi/README.md, "Result areas").
    pub(crate) const U64_PAYLOAD: usize = 2;

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

    /// The `error` record of an `err` result whose payload starts at `slot`: code, then
    /// message ptr and len.
    unsafe fn error_at(&self, slot: usize) -> Error {
        Error {
            code: ErrorCode::from_byte(self.byte(slot)),
            message: take_string(self.0[slot + 1] as *mut u8, self.0[slot + 2]),
        }
    }

    /// The `error` of an `err` result: code at offset 4, message at 8/12.
    unsafe fn error(&self) -> Error {
        self.error_at(Self::PAYLOAD)
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

    /// Reads `result<bool, error>` (lock `try-lock` and `keep-alive`). Like the
    /// canonical ABI, any non-zero byte is `true`.
    pub(crate) unsafe fn boolean(&self) -> Result<bool, Error> {
        if self.is_err() {
            return Err(self.error());
        }
        Ok(self.byte(Self::PAYLOAD) != 0)
    }

    /// Reads `result<E, error>` for an enum `E`, returning its discriminant byte.
    pub(crate) unsafe fn enum_byte(&self) -> Result<u8, Error> {
        if self.is_err() {
            return Err(self.error());
        }
        Ok(self.byte(Self::PAYLOAD))
    }

    /// Reads `result<u64, error>`: the id is the little-endian u64 at offset 8 (slots 2
    /// and 3 on wasm32), and an error record sits at 8/12/16 instead of 4/8/12.
    pub(crate) unsafe fn u64(&self) -> Result<u64, Error> {
        if self.is_err() {
            return Err(self.error_at(Self::U64_PAYLOAD));
        }
        let low = self.0[Self::U64_PAYLOAD] as u32 as u64;
        let high = self.0[Self::U64_PAYLOAD + 1] as u32 as u64;
        Ok(low | (high << 32))
    }

    /// Writes an `err` result with its error record at `payload` the way a host would
    /// (used by the non-wasm fallback and the tests, so that the same reading code runs
    /// everywhere).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn write_error(area: *mut u8, payload: usize, code: ErrorCode, message: &str) {
        let words = area as *mut usize;
        // SAFETY: `area` is a RetArea handed to an import; the message is placed in a
        // block from cabi_realloc, so the reader can take ownership of it.
        unsafe {
            let text = cabi_realloc(std::ptr::null_mut(), 0, 1, message.len());
            std::ptr::copy_nonoverlapping(message.as_ptr(), text, message.len());
            *words = 1;
            *words.add(payload) = code as usize;
            *words.add(payload + 1) = text as usize;
            *words.add(payload + 2) = message.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::UnlockStatus;

    /// A result area as the host leaves it: `words[slot] = value` for every pair.
    fn area(words: &[(usize, usize)]) -> RetArea {
        let mut ret = RetArea::new();
        for &(slot, value) in words {
            ret.0[slot] = value;
        }
        ret
    }

    /// An `err` result with its error record at `payload`, the message allocated with
    /// cabi_realloc like the host does.
    fn failed(payload: usize, code: ErrorCode, message: &str) -> RetArea {
        let mut ret = RetArea::new();
        RetArea::write_error(ret.as_mut_ptr(), payload, code, message);
        ret
    }

    #[test]
    fn the_area_is_aligned_for_u64_results() {
        assert_eq!(std::mem::align_of::<RetArea>(), 8);
        assert!(std::mem::size_of::<RetArea>() >= 24);
    }

    #[test]
    fn lifts_result_bool() {
        unsafe {
            assert_eq!(area(&[(0, 0), (1, 1)]).boolean(), Ok(true));
            assert_eq!(area(&[(0, 0), (1, 0)]).boolean(), Ok(false));
            // Only the byte counts; canonical ABI lifting treats any non-zero as true.
            assert_eq!(area(&[(0, 0), (1, 0x0200)]).boolean(), Ok(false));
            assert_eq!(area(&[(0, 0), (1, 7)]).boolean(), Ok(true));
            let error = failed(RetArea::PAYLOAD, ErrorCode::Denied, "lock store \"x\" is not granted").boolean().unwrap_err();
            assert_eq!(error, Error::new(ErrorCode::Denied, "lock store \"x\" is not granted"));
        }
    }

    #[test]
    fn lifts_result_unlock_status() {
        let unlock = |byte: usize| unsafe { area(&[(0, 0), (1, byte)]).enum_byte().and_then(UnlockStatus::from_byte) };
        assert_eq!(unlock(0), Ok(UnlockStatus::Success));
        assert_eq!(unlock(1), Ok(UnlockStatus::LockDoesNotExist));
        assert_eq!(unlock(2), Ok(UnlockStatus::LockBelongsToOthers));
        let unknown = unlock(3).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::Internal);
        assert!(unknown.message.contains("unlock status 3"), "{}", unknown.message);
        let error = unsafe { failed(RetArea::PAYLOAD, ErrorCode::Unavailable, "redis is down ✓").enum_byte() }.unwrap_err();
        assert_eq!(error, Error::new(ErrorCode::Unavailable, "redis is down ✓"));
        let names: Vec<&str> = [UnlockStatus::Success, UnlockStatus::LockDoesNotExist, UnlockStatus::LockBelongsToOthers]
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(names, ["success", "lock-does-not-exist", "lock-belongs-to-others"]);
    }

    #[test]
    fn lifts_result_u64_from_offset_8() {
        // The id's low half is the word at offset 8, its high half the one at 12; the
        // word at offset 4 is padding and must be ignored.
        let id = |low: usize, high: usize| unsafe { area(&[(0, 0), (1, 0xdead), (2, low), (3, high)]).u64() };
        assert_eq!(id(1, 0), Ok(1));
        assert_eq!(id(0xffff_ffff, 0), Ok(4_294_967_295));
        assert_eq!(id(0, 1), Ok(1 << 32));
        assert_eq!(id(5, 1), Ok(4_294_967_301));
        assert_eq!(id(0xffff_ffff, 0xffff_ffff), Ok(u64::MAX));
        // An error record sits at 8/12/16, not at 4/8/12.
        let error = unsafe { failed(RetArea::U64_PAYLOAD, ErrorCode::NotFound, "no sequencer named \"x\"").u64() }.unwrap_err();
        assert_eq!(error, Error::new(ErrorCode::NotFound, "no sequencer named \"x\""));
    }

    #[test]
    fn capability_calls_outside_wasm_fail_with_internal_at_the_right_offset() {
        for error in [
            crate::lock::try_lock("s", "r", "o", 1).unwrap_err(),
            crate::lock::unlock("s", "r", "o").unwrap_err(),
            crate::lock::keep_alive("s", "r", "o", 1).unwrap_err(),
            crate::sequencer::next_id("s", "k").unwrap_err(),
        ] {
            assert_eq!(error.code, ErrorCode::Internal);
            assert!(error.message.contains("only available inside an L8 function"), "{}", error.message);
        }
    }
}
