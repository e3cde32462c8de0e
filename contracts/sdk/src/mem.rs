//! A bump region above the data and stack of the module (`__heap_base`), grown with
//! `memory.grow` on demand and never freed: an execution is short and its memory is discarded.
//!
//! The SDK uses it for the call input, ABI encodings and return data, so simple contracts need
//! no allocator. Memory handed out is always zero: fresh pages are zero and nothing is reused.
//! With the `alloc` feature the same region backs a `#[global_allocator]` ([`BumpAlloc`]).

/// Returns `size` bytes of zeroed memory aligned to `align` (a power of two).
/// Reverts with `Error("out of memory")` when the memory cannot grow.
#[cfg(target_arch = "wasm32")]
pub fn alloc(size: usize, align: usize) -> *mut u8 {
    extern "C" {
        static __heap_base: u8;
    }
    static mut TOP: usize = 0;
    // SAFETY: wasm32 contracts are single-threaded and TOP is only read and written here.
    unsafe {
        let mut top = TOP;
        if top == 0 {
            top = core::ptr::addr_of!(__heap_base) as usize;
        }
        let start = (top + align - 1) & !(align - 1);
        let end = match start.checked_add(size) {
            Some(end) => end,
            None => out_of_memory(),
        };
        let have = core::arch::wasm32::memory_size(0) * 65536;
        if end > have {
            let pages = (end - have).div_ceil(65536);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                out_of_memory();
            }
        }
        TOP = end;
        start as *mut u8
    }
}

/// Host build (tests): leaked, zeroed heap memory.
#[cfg(not(target_arch = "wasm32"))]
pub fn alloc(size: usize, align: usize) -> *mut u8 {
    extern crate alloc;
    let layout = core::alloc::Layout::from_size_align(size.max(1), align).expect("layout");
    // SAFETY: the layout has a non-zero size. The memory is leaked on purpose.
    unsafe { alloc::alloc::alloc_zeroed(layout) }
}

/// `len` zeroed bytes that live until the end of the execution.
pub fn alloc_bytes(len: usize) -> &'static mut [u8] {
    // SAFETY: `alloc` returns `len` fresh, zeroed, exclusively owned bytes.
    unsafe { core::slice::from_raw_parts_mut(alloc(len, 1), len) }
}

#[cfg(target_arch = "wasm32")]
#[cold]
fn out_of_memory() -> ! {
    // Encoded at compile time: reverting must not allocate.
    static OOM: [u8; 100] = crate::abi::error_const("out of memory");
    crate::env::revert(&OOM)
}

/// A `GlobalAlloc` over the bump region: allocation is a pointer bump, `dealloc` does nothing.
/// Enabled as the global allocator with the SDK's `alloc` feature (wasm32 only).
pub struct BumpAlloc;

// SAFETY: `alloc` returns fresh memory of the requested size and alignment or reverts.
unsafe impl core::alloc::GlobalAlloc for BumpAlloc {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        alloc(layout.size(), layout.align())
    }

    unsafe fn alloc_zeroed(&self, layout: core::alloc::Layout) -> *mut u8 {
        alloc(layout.size(), layout.align())
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: core::alloc::Layout) {}
}
