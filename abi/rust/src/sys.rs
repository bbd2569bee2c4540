//! The raw imports of the L8 ABI, exactly as listed in abi/README.md ("Core module:
//! imports"). On wasm32, `*const u8`, `*mut u8` and `usize` are all core `i32`, so these
//! declarations produce the documented signatures. Functions that return a result take
//! `ret`, a pointer to a [`crate::abi::RetArea`] the host writes into.
//!
//! Outside wasm32 (`cargo check`, unit tests on the build machine) there is no L8 host:
//! every call answers an `internal` error saying so, and `log::write` prints to stderr.

#[cfg(target_arch = "wasm32")]
mod wasm {
    #[link(wasm_import_module = "l8:faas/state@0.2.0")]
    extern "C" {
        #[link_name = "get"]
        pub fn state_get(store: *const u8, store_len: usize, key: *const u8, key_len: usize, ret: *mut u8);
        #[link_name = "set"]
        pub fn state_set(
            store: *const u8,
            store_len: usize,
            key: *const u8,
            key_len: usize,
            value: *const u8,
            value_len: usize,
            ret: *mut u8,
        );
        #[link_name = "delete"]
        pub fn state_delete(store: *const u8, store_len: usize, key: *const u8, key_len: usize, ret: *mut u8);
    }

    #[link(wasm_import_module = "l8:faas/pubsub@0.2.0")]
    extern "C" {
        #[link_name = "publish"]
        pub fn pubsub_publish(
            broker: *const u8,
            broker_len: usize,
            topic: *const u8,
            topic_len: usize,
            data: *const u8,
            data_len: usize,
            metadata: *const u8,
            metadata_len: usize,
            ret: *mut u8,
        );
    }

    // `config.get` and `state.get` share the name `get` but live in different wasm
    // import modules, so rustc gives them distinct symbols; the lint does not know that.
    #[allow(clashing_extern_declarations)]
    #[link(wasm_import_module = "l8:faas/config@0.2.0")]
    extern "C" {
        #[link_name = "get"]
        pub fn config_get(key: *const u8, key_len: usize, ret: *mut u8);
    }

    #[link(wasm_import_module = "l8:faas/invoke@0.2.0")]
    extern "C" {
        #[link_name = "call"]
        pub fn invoke_call(
            target: *const u8,
            target_len: usize,
            method: *const u8,
            method_len: usize,
            path: *const u8,
            path_len: usize,
            query: *const u8,
            query_len: usize,
            headers: *const u8,
            headers_len: usize,
            body: *const u8,
            body_len: usize,
            ret: *mut u8,
        );
    }

    #[link(wasm_import_module = "l8:faas/log@0.2.0")]
    extern "C" {
        #[link_name = "write"]
        pub fn log_write(level: i32, message: *const u8, message_len: usize);
    }

    #[link(wasm_import_module = "l8:faas/lock@0.2.0")]
    extern "C" {
        #[link_name = "try-lock"]
        pub fn lock_try_lock(
            store: *const u8,
            store_len: usize,
            resource: *const u8,
            resource_len: usize,
            owner: *const u8,
            owner_len: usize,
            expire_seconds: u32,
            ret: *mut u8,
        );
        #[link_name = "unlock"]
        pub fn lock_unlock(
            store: *const u8,
            store_len: usize,
            resource: *const u8,
            resource_len: usize,
            owner: *const u8,
            owner_len: usize,
            ret: *mut u8,
        );
        #[link_name = "keep-alive"]
        pub fn lock_keep_alive(
            store: *const u8,
            store_len: usize,
            resource: *const u8,
            resource_len: usize,
            owner: *const u8,
            owner_len: usize,
            expire_seconds: u32,
            ret: *mut u8,
        );
    }

    #[link(wasm_import_module = "l8:faas/sequencer@0.2.0")]
    extern "C" {
        /// `ret` must be 8-byte aligned: result<u64, error> (see RetArea).
        #[link_name = "next-id"]
        pub fn sequencer_next_id(store: *const u8, store_len: usize, key: *const u8, key_len: usize, ret: *mut u8);
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use crate::abi::RetArea;
    use crate::error::ErrorCode;

    fn no_host(ret: *mut u8, what: &str) {
        no_host_at(ret, RetArea::PAYLOAD, what)
    }

    fn no_host_at(ret: *mut u8, payload: usize, what: &str) {
        let message = format!(
            "{} is only available inside an L8 function: build for wasm32-wasi (wasm32-wasip1 on Rust >= 1.78) or wasm32-unknown-unknown and deploy the module",
            what
        );
        RetArea::write_error(ret, payload, ErrorCode::Internal, &message);
    }

    pub unsafe fn state_get(_: *const u8, _: usize, _: *const u8, _: usize, ret: *mut u8) {
        no_host(ret, "state.get");
    }

    pub unsafe fn state_set(_: *const u8, _: usize, _: *const u8, _: usize, _: *const u8, _: usize, ret: *mut u8) {
        no_host(ret, "state.set");
    }

    pub unsafe fn state_delete(_: *const u8, _: usize, _: *const u8, _: usize, ret: *mut u8) {
        no_host(ret, "state.delete");
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn pubsub_publish(
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        ret: *mut u8,
    ) {
        no_host(ret, "pubsub.publish");
    }

    pub unsafe fn config_get(_: *const u8, _: usize, ret: *mut u8) {
        no_host(ret, "config.get");
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn invoke_call(
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: usize,
        ret: *mut u8,
    ) {
        no_host(ret, "invoke.call");
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn lock_try_lock(_: *const u8, _: usize, _: *const u8, _: usize, _: *const u8, _: usize, _: u32, ret: *mut u8) {
        no_host(ret, "lock.try-lock");
    }

    pub unsafe fn lock_unlock(_: *const u8, _: usize, _: *const u8, _: usize, _: *const u8, _: usize, ret: *mut u8) {
        no_host(ret, "lock.unlock");
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn lock_keep_alive(_: *const u8, _: usize, _: *const u8, _: usize, _: *const u8, _: usize, _: u32, ret: *mut u8) {
        no_host(ret, "lock.keep-alive");
    }

    pub unsafe fn sequencer_next_id(_: *const u8, _: usize, _: *const u8, _: usize, ret: *mut u8) {
        // result<u64, error> keeps its error record at offset 8, not 4.
        no_host_at(ret, RetArea::U64_PAYLOAD, "sequencer.next-id");
    }

    pub unsafe fn log_write(level: i32, message: *const u8, message_len: usize) {
        let text = std::slice::from_raw_parts(message, message_len);
        eprintln!("[l8 log level {}] {}", level, String::from_utf8_lossy(text));
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::*;
