//! The smallest component that fits the `shopbridge:connector@0.1.0`
//! contract: what the `call_overhead` benchmark instantiates and calls, so
//! that it measures the host's machinery rather than a plugin's own size.
//!
//! - no standard library (`no_std` on wasm32), hence no WASI import at all:
//!   std would link its panic and I/O machinery and with it `wasi:cli/*`;
//! - no SDK: the bindings come straight from `wit-bindgen` without `std`;
//! - a fixed 64 KiB arena as the allocator ([`Arena`]): it never grows the
//!   linear memory, and an instance lives for one call, so nothing is freed;
//! - `describe` answers a constant metadata; the feed parser, orders and
//!   status all answer `unsupported`.
//!
//! On other targets the crate is empty (the workspace also builds natively).
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
mod component {
    #![allow(unsafe_code)] // the allocator and the generated bindings

    extern crate alloc;

    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    wit_bindgen::generate!({
        path: "../../../wit",
        world: "connector",
        generate_all,
    });

    use exports::shopbridge::connector::{catalog, orders, plugin, status};
    use shopbridge::connector::types::{
        Capability, FeedError, FeedRecord, Metadata, Order, OrderError, StatusUpdate, Submission,
    };

    struct Minimal;

    impl plugin::Guest for Minimal {
        fn describe() -> Metadata {
            Metadata {
                name: String::from("minimal"),
                version: String::from("0.1.0"),
                description: String::from("The smallest contract-conforming plugin."),
                capabilities: vec![Capability::Catalog],
                settings: Vec::new(),
                hosts: Vec::new(),
            }
        }
    }

    /// Never constructed: `open` answers `unsupported`.
    struct NoParser;

    impl catalog::Guest for Minimal {
        type FeedParser = NoParser;
    }

    impl catalog::GuestFeedParser for NoParser {
        fn open(_content_type: Option<String>) -> Result<catalog::FeedParser, FeedError> {
            Err(FeedError::Unsupported)
        }

        fn push(&self, _chunk: Vec<u8>) -> Result<Vec<FeedRecord>, FeedError> {
            Err(FeedError::Unsupported)
        }

        fn finish(&self) -> Result<Vec<FeedRecord>, FeedError> {
            Err(FeedError::Unsupported)
        }
    }

    impl orders::Guest for Minimal {
        fn check_order(_order: Order) -> Result<(), OrderError> {
            Err(OrderError::Unsupported)
        }

        fn submit_order(_order: Order) -> Result<Submission, OrderError> {
            Err(OrderError::Unsupported)
        }

        fn cancel_order(
            _supplier_reference: String,
            _reason: Option<String>,
        ) -> Result<(), OrderError> {
            Err(OrderError::Unsupported)
        }
    }

    impl status::Guest for Minimal {
        fn poll_status(_supplier_references: Vec<String>) -> Result<Vec<StatusUpdate>, OrderError> {
            Err(OrderError::Unsupported)
        }
    }

    export!(Minimal);

    /// Bytes the arena hands out over an instance's life: `describe` needs
    /// a few hundred, an order's arguments a few KiB.
    const ARENA_BYTES: usize = 64 << 10;

    /// A bump allocator over a static buffer: allocation moves a cursor,
    /// freeing does nothing, and when the buffer is used up allocation fails
    /// (the guest traps). An instance serves one call, so this is enough, and
    /// unlike a general allocator it never calls `memory.grow`.
    struct Arena {
        bytes: UnsafeCell<[u8; ARENA_BYTES]>,
        used: UnsafeCell<usize>,
    }

    // SAFETY: a component instance runs on one thread.
    unsafe impl Sync for Arena {}

    unsafe impl GlobalAlloc for Arena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: single-threaded (see `Sync`), so no other reference
            // to `used` exists while this one does.
            let used = unsafe { &mut *self.used.get() };
            let base = self.bytes.get().cast::<u8>();
            let start = (base as usize + *used).next_multiple_of(layout.align()) - base as usize;
            match start.checked_add(layout.size()) {
                Some(end) if end <= ARENA_BYTES => {
                    *used = end;
                    // SAFETY: `start + size <= ARENA_BYTES`: inside the buffer.
                    unsafe { base.add(start) }
                }
                _ => core::ptr::null_mut(),
            }
        }

        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }

    #[global_allocator]
    static ARENA: Arena = Arena {
        bytes: UnsafeCell::new([0; ARENA_BYTES]),
        used: UnsafeCell::new(0),
    };

    /// The canonical ABI's allocation entry point, through which the host
    /// writes arguments into the guest. On wasip2 Rust's std exports it and
    /// wit-bindgen relies on that; without std it is ours to export.
    #[unsafe(no_mangle)]
    unsafe extern "C" fn cabi_realloc(
        old_ptr: *mut u8,
        old_len: usize,
        align: usize,
        new_len: usize,
    ) -> *mut u8 {
        if new_len == 0 {
            return align as *mut u8;
        }
        // SAFETY: the canonical ABI passes a power-of-two alignment, a
        // non-zero size, and `old_ptr` / `old_len` of an earlier allocation.
        let ptr = unsafe {
            let layout = Layout::from_size_align_unchecked(old_len.max(1), align);
            if old_len == 0 {
                ARENA.alloc(Layout::from_size_align_unchecked(new_len, align))
            } else {
                ARENA.realloc(old_ptr, layout, new_len)
            }
        };
        if ptr.is_null() {
            core::arch::wasm32::unreachable();
        }
        ptr
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }
}
