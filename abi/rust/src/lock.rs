//! Distributed locks (WIT `l8:faas/lock`, ABI 0.2.0): a lock on a resource is held by
//! one owner until it is unlocked or its lease expires. The lock store must be granted
//! in the function's manifest (`capabilities.lock`), otherwise calls fail with `denied`.
//!
//! ```no_run
//! use l8::lock::{self, UnlockStatus};
//! let owner = "request-42"; // e.g. the `l8-request-id` header
//! if lock::try_lock("default", "orders/7", owner, 10)? {
//!     // ... the critical section ...
//!     if lock::unlock("default", "orders/7", owner)? != UnlockStatus::Success {
//!         l8::log::warn("the lease ran out before the work was done");
//!     }
//! }
//! # Ok::<(), l8::Error>(())
//! ```

use std::fmt;

use crate::abi::RetArea;
use crate::error::{Error, ErrorCode};
use crate::sys;

/// What [`unlock`] found (WIT `lock.unlock-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnlockStatus {
    /// The owner held the lock; it is released.
    Success = 0,
    /// Nobody holds the lock (never taken, already unlocked, or its lease expired).
    LockDoesNotExist = 1,
    /// Someone else holds the lock; it is left alone.
    LockBelongsToOthers = 2,
}

impl UnlockStatus {
    /// The status's name in the WIT, e.g. `"lock-belongs-to-others"`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnlockStatus::Success => "success",
            UnlockStatus::LockDoesNotExist => "lock-does-not-exist",
            UnlockStatus::LockBelongsToOthers => "lock-belongs-to-others",
        }
    }

    /// Decodes the enum byte. Unlike an error code, an unknown status cannot be
    /// treated as a safe default (the lock may or may not be released), so it is an
    /// error saying which SDK update is needed.
    pub(crate) fn from_byte(byte: u8) -> Result<UnlockStatus, Error> {
        match byte {
            0 => Ok(UnlockStatus::Success),
            1 => Ok(UnlockStatus::LockDoesNotExist),
            2 => Ok(UnlockStatus::LockBelongsToOthers),
            other => Err(Error::new(
                ErrorCode::Internal,
                format!("the host answered unlock status {}, which this l8 crate does not know (it knows 0-2); update the crate", other),
            )),
        }
    }
}

impl fmt::Display for UnlockStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Takes the lock on `resource` in `store` for `owner` for `expire_seconds` (at
/// least one) unless someone holds it: `Ok(true)` if taken, `Ok(false)` if it is held
/// by anyone, `owner` included (locks are not reentrant).
pub fn try_lock(store: &str, resource: &str, owner: &str, expire_seconds: u32) -> Result<bool, Error> {
    let mut ret = RetArea::new();
    // SAFETY: the host reads the strings during the call and writes a
    // result<bool, error> into `ret`, allocating the error message with cabi_realloc.
    unsafe {
        sys::lock_try_lock(
            store.as_ptr(),
            store.len(),
            resource.as_ptr(),
            resource.len(),
            owner.as_ptr(),
            owner.len(),
            expire_seconds,
            ret.as_mut_ptr(),
        );
        ret.boolean()
    }
}

/// Releases the lock on `resource` if `owner` holds it; the status says what was found.
pub fn unlock(store: &str, resource: &str, owner: &str) -> Result<UnlockStatus, Error> {
    let mut ret = RetArea::new();
    // SAFETY: as in `try_lock`; the result is result<unlock-status, error>.
    let byte = unsafe {
        sys::lock_unlock(
            store.as_ptr(),
            store.len(),
            resource.as_ptr(),
            resource.len(),
            owner.as_ptr(),
            owner.len(),
            ret.as_mut_ptr(),
        );
        ret.enum_byte()?
    };
    UnlockStatus::from_byte(byte)
}

/// Extends the lease `owner` holds on `resource` to `expire_seconds` from now:
/// `Ok(false)` if `owner` does not hold the lock any more.
pub fn keep_alive(store: &str, resource: &str, owner: &str, expire_seconds: u32) -> Result<bool, Error> {
    let mut ret = RetArea::new();
    // SAFETY: as in `try_lock`.
    unsafe {
        sys::lock_keep_alive(
            store.as_ptr(),
            store.len(),
            resource.as_ptr(),
            resource.len(),
            owner.as_ptr(),
            owner.len(),
            expire_seconds,
            ret.as_mut_ptr(),
        );
        ret.boolean()
    }
}
