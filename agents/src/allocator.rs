//! The memory allocator of heldout's binaries and benchmarks.
//!
//! burn allocates every op's output afresh, and a learner update frees and reallocates the same
//! large blocks (up to 64 MiB per activation of the IMPALA-CNN at batch 256) hundreds of times.
//! glibc maps and unmaps such blocks each time, and mimalloc by default returns freed memory to
//! the system after 10 ms; either way each reuse page-faults and the kernel zeroes the pages
//! again. [`Allocator`] with [`retain_freed_memory`] keeps it mapped: about 15 % of an update
//! (BENCHMARKS.md, "Agents / learner").
//!
//! A binary opts in with
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: heldout_agents::allocator::Allocator = heldout_agents::allocator::Allocator;
//! ```
//! and calls [`retain_freed_memory`] first thing in `main`.

/// mimalloc.
pub use mimalloc::MiMalloc as Allocator;

/// `mi_option_purge_delay` of mimalloc.h (the same value in its v2 and v3 headers).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to return freed memory to the system (purge delay -1). Only has an
/// effect when [`Allocator`] is the global allocator.
pub fn retain_freed_memory() {
    // SAFETY: sets one of mimalloc's options, a plain store; valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}
