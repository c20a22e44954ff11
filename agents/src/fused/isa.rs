//! Which vector instructions the fused learner's kernels are compiled for, chosen at run time.
//!
//! Every kernel is written once as plain Rust loops over contiguous rows of samples and compiled
//! three times (the `multiversion!` macro): for AVX-512, for AVX2 with FMA, and for the baseline target
//! (no fused multiply-add). One step, the folding of sixteen weights' partial sums at once, is
//! written with each instruction set's shuffles, to the same bits as the plain loop. Reductions keep sixteen partial sums whatever the vector width, so
//! the AVX-512 and AVX2 paths give bitwise the same results; the portable path rounds each
//! product before adding it and so differs from them in the last bits.

use std::fmt;

/// An instruction set the kernels were compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX-512 (F, VL, BW) with FMA: 16-lane vectors.
    Avx512,
    /// AVX2 with FMA: 8-lane vectors.
    Avx2,
    /// The baseline target, no fused multiply-add.
    Portable,
}

impl Isa {
    /// The best instruction set this CPU has.
    pub fn detected() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// The instruction set the fused learner uses: the `HELDOUT_ISA` environment variable
    /// (`avx512`, `avx2` or `portable`) when it names one this CPU supports, else
    /// [`Isa::detected`]. Benchmarks use it to time the lesser paths.
    pub fn chosen() -> Isa {
        let Ok(name) = std::env::var("HELDOUT_ISA") else { return Isa::detected() };
        match [Isa::Avx512, Isa::Avx2, Isa::Portable].into_iter().find(|i| i.name() == name) {
            Some(isa) if isa.is_supported() => isa,
            _ => {
                eprintln!(
                    "HELDOUT_ISA={name:?} is not one of avx512, avx2, portable that this CPU runs; using {}",
                    Isa::detected()
                );
                Isa::detected()
            }
        }
    }

    /// Whether this CPU can run kernels compiled for `self`.
    pub fn is_supported(self) -> bool {
        matches!(
            (self, Isa::detected()),
            (Isa::Portable, _) | (Isa::Avx2, Isa::Avx2 | Isa::Avx512) | (Isa::Avx512, Isa::Avx512)
        )
    }

    /// The name printed by benchmarks: `avx512`, `avx2` or `portable`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// f32 lanes of an AVX-512 register, as the `WIDTH` of a [`multiversion!`] body.
pub(crate) const WIDTH_AVX512: usize = 16;
/// f32 lanes of an AVX2 register.
pub(crate) const WIDTH_AVX2: usize = 8;
/// The portable path's `WIDTH`: no explicit vector instructions.
pub(crate) const WIDTH_PORTABLE: usize = 1;

/// `a * b + c`, fused into one rounding where the instruction set has FMA.
#[inline(always)]
pub(crate) fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// Defines `fn $name(isa: Isa, args...) -> R` that runs one body compiled for the given
/// instruction set. The body sees the const generic `$fma: bool` (whether to fuse
/// multiply-adds) and, when named (`multiversion!(FMA, WIDTH => ...)`), `$width: usize`, the
/// f32 lanes of one vector register ([`WIDTH_AVX512`], [`WIDTH_AVX2`] or [`WIDTH_PORTABLE`]),
/// for the few kernels written with explicit vector instructions. Everything the body calls
/// on the hot path must be `#[inline(always)]` so that it is compiled with the caller's target
/// features.
macro_rules! multiversion {
    ($fma:ident => $($rest:tt)*) => {
        $crate::fused::isa::multiversion!($fma, _WIDTH => $($rest)*);
    };
    ($fma:ident, $width:ident => $(#[$meta:meta])* $vis:vis fn $name:ident $(<$($lt:lifetime),*>)? ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name $(<$($lt),*>)? (isa: $crate::fused::isa::Isa, $($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn generic<$($($lt,)*)? const $fma: bool, const $width: usize>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx512 $(<$($lt),*>)? ($($arg: $ty),*) $(-> $ret)? { generic::<true, { $crate::fused::isa::WIDTH_AVX512 }>($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2 $(<$($lt),*>)? ($($arg: $ty),*) $(-> $ret)? { generic::<true, { $crate::fused::isa::WIDTH_AVX2 }>($($arg),*) }
            match isa {
                // SAFETY: an `Isa` other than `Portable` reaches a kernel only when
                // `Isa::is_supported` holds (checked where the learner picks it).
                #[cfg(target_arch = "x86_64")]
                $crate::fused::isa::Isa::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                $crate::fused::isa::Isa::Avx2 => unsafe { avx2($($arg),*) },
                _ => generic::<false, { $crate::fused::isa::WIDTH_PORTABLE }>($($arg),*),
            }
        }
    };
}

pub(crate) use multiversion;
