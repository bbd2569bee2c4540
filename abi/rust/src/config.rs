//! Read-only configuration (WIT `l8:faas/config`): the function's own `config:` values
//! from its manifest, and the runtime's config keys granted in `capabilities.config`.

use crate::abi::RetArea;
use crate::error::Error;
use crate::sys;

/// The value of `key`, or `Ok(None)` when it is not set.
pub fn get(key: &str) -> Result<Option<String>, Error> {
    let mut ret = RetArea::new();
    // SAFETY: the host reads `key` during the call and writes a
    // result<option<string>, error> into `ret`.
    unsafe {
        sys::config_get(key.as_ptr(), key.len(), ret.as_mut_ptr());
        ret.option_string()
    }
}
