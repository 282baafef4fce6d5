//! A cache-line prefetch hint: on x86_64 `_mm_prefetch` (T0), elsewhere
//! nothing. A hint never changes what the program computes.

/// Asks the CPU to bring the line holding `p` into cache.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it does not fault, even on an invalid address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
