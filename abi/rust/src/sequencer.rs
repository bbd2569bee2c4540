//! Increasing ids (WIT `l8:faas/sequencer`, ABI 0.2.0): every id a sequencer returns
//! for a key is greater than all ids it returned before for that key. The sequencer
//! must be granted in the function's manifest (`capabilities.sequencer`), otherwise
//! calls fail with `denied`.

use crate::abi::RetArea;
use crate::error::Error;
use crate::sys;

/// The next id of `key` from the sequencer `store`.
///
/// ```no_run
/// let id = l8::sequencer::next_id("default", "orders")?;
/// # Ok::<(), l8::Error>(())
/// ```
pub fn next_id(store: &str, key: &str) -> Result<u64, Error> {
    // RetArea is 8-byte aligned, as result<u64, error> requires.
    let mut ret = RetArea::new();
    // SAFETY: the host reads the strings during the call and writes a
    // result<u64, error> into `ret`, allocating the error message with cabi_realloc.
    unsafe {
        sys::sequencer_next_id(store.as_ptr(), store.len(), key.as_ptr(), key.len(), ret.as_mut_ptr());
        ret.u64()
    }
}
