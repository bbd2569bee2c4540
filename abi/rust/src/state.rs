//! Key/value state (WIT `l8:faas/state`). Values are bytes; a missing key (`None`) is
//! distinct from an empty value (`Some(vec![])`). The store must be granted in the
//! function's manifest (`capabilities.state`), otherwise calls fail with `denied`.

use crate::abi::RetArea;
use crate::error::Error;
use crate::sys;

/// Reads `key` from `store`: `Ok(None)` when the key does not exist.
pub fn get(store: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
    let mut ret = RetArea::new();
    // SAFETY: the host reads the strings during the call and writes a
    // result<option<list<u8>>, error> into `ret`, allocating its parts with cabi_realloc.
    unsafe {
        sys::state_get(store.as_ptr(), store.len(), key.as_ptr(), key.len(), ret.as_mut_ptr());
        ret.option_bytes()
    }
}

/// Writes `value` (bytes or text) under `key` in `store`.
pub fn set(store: &str, key: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
    let value = value.as_ref();
    let mut ret = RetArea::new();
    // SAFETY: as in `get`; the result is result<_, error>.
    unsafe {
        sys::state_set(
            store.as_ptr(),
            store.len(),
            key.as_ptr(),
            key.len(),
            value.as_ptr(),
            value.len(),
            ret.as_mut_ptr(),
        );
        ret.unit()
    }
}

/// Deletes `key` from `store`; deleting a missing key is not an error.
pub fn delete(store: &str, key: &str) -> Result<(), Error> {
    let mut ret = RetArea::new();
    // SAFETY: as in `get`; the result is result<_, error>.
    unsafe {
        sys::state_delete(store.as_ptr(), store.len(), key.as_ptr(), key.len(), ret.as_mut_ptr());
        ret.unit()
    }
}
