//! heldout's own tensor operations, added to burn as backend extensions where burn-flex's generic
//! kernels were the learner's bottleneck (see BENCHMARKS.md, "Agents / learner"):
//! - [`conv`]: the stride-1 convolution with bias, optionally of its input's relu (direct
//!   AVX-512 kernels for the forward pass and both gradients, im2col + gemm elsewhere);
//! - [`max_pool`]: max pooling with its argmax gradient.
//!
//! Each has f32 kernels for flex, an autodiff backward node, and burn's generic ops as the
//! default body for other backends (LibTorch with the `tch` feature).

// burn 0.22 marks LibTorch deprecated; with the opt-in `tch` feature the extension macros name it.
#[cfg_attr(feature = "tch", allow(deprecated))]
pub mod conv;
#[cfg_attr(feature = "tch", allow(deprecated))]
pub mod max_pool;

use std::mem::MaybeUninit;

use burn::backend::flex::FlexTensor;
use burn::tensor::{Element, TensorData};
use rayon::prelude::*;

/// A contiguous flex tensor owning `values` in `shape`: how the flex kernels return results.
fn flex_tensor<E: Element, const D: usize>(values: Vec<E>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// A buffer of `len` values written chunk by chunk on rayon's pool: chunk `i` (`chunk_len`
/// values, the last one shorter) is zeroed, then `fill(scratch, i, chunk)` writes it, with
/// `scratch` from `init` once per task. Zeroing inside each task spreads that pass over the pool
/// and leaves the chunk in cache for `fill`, where `vec![0; len]` would first zero the whole
/// buffer on the calling thread while the pool waits.
fn par_chunks_zeroed<T, S>(
    len: usize,
    chunk_len: usize,
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, usize, &mut [T]) + Sync + Send,
) -> Vec<T>
where
    T: Copy + Default + Send,
{
    let zero_then_fill = |scratch: &mut S, i, chunk: &mut [MaybeUninit<T>]| fill(scratch, i, zeroed(chunk));
    // SAFETY: `zero_then_fill` initialises every element of each chunk.
    unsafe { par_chunks_written(len, chunk_len, init, zero_then_fill) }
}

/// [`par_chunks_zeroed`] for two buffers written together: chunk `i` of each (`chunk_lens`
/// values) goes to `fill(scratch, i, a, b)`. Both must have the same number of chunks.
fn par_chunk_pairs_zeroed<A, B, S>(
    lens: (usize, usize),
    chunk_lens: (usize, usize),
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, usize, &mut [A], &mut [B]) + Sync + Send,
) -> (Vec<A>, Vec<B>)
where
    A: Copy + Default + Send,
    B: Copy + Default + Send,
{
    let chunks = |len: usize, chunk_len: usize| len.div_ceil(chunk_len.max(1));
    assert_eq!(chunks(lens.0, chunk_lens.0), chunks(lens.1, chunk_lens.1), "buffers of different chunk counts");
    let (mut a, mut b) = (Vec::with_capacity(lens.0), Vec::with_capacity(lens.1));
    a.spare_capacity_mut()[..lens.0]
        .par_chunks_mut(chunk_lens.0.max(1))
        .zip(b.spare_capacity_mut()[..lens.1].par_chunks_mut(chunk_lens.1.max(1)))
        .enumerate()
        .for_each_init(init, |scratch, (i, (a, b))| fill(scratch, i, zeroed(a), zeroed(b)));
    // SAFETY: the chunks cover the first `lens` elements of each, all zeroed above (a panic in
    // `fill` propagates before these lines, leaving the vectors empty).
    unsafe {
        a.set_len(lens.0);
        b.set_len(lens.1);
    }
    (a, b)
}

/// `chunk` set to zeros (`T::default()`), as initialised values.
fn zeroed<T: Copy + Default>(chunk: &mut [MaybeUninit<T>]) -> &mut [T] {
    chunk.fill(MaybeUninit::new(T::default()));
    // SAFETY: every element of `chunk` was initialised on the line above, and `MaybeUninit<T>`
    // has the layout of `T`.
    unsafe { &mut *(chunk as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// [`par_chunks_zeroed`] without the zeroing, for kernels that write every output value.
///
/// # Safety
/// `fill` must initialise every element of the chunk it is handed.
unsafe fn par_chunks_written<T, S>(
    len: usize,
    chunk_len: usize,
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, usize, &mut [MaybeUninit<T>]) + Sync + Send,
) -> Vec<T>
where
    T: Send,
{
    let mut values = Vec::with_capacity(len);
    values.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk_len.max(1))
        .enumerate()
        .for_each_init(init, |scratch, (i, chunk)| fill(scratch, i, chunk));
    // SAFETY: the chunks cover the first `len` elements, each initialised by `fill` (the
    // caller's contract; a panic in `fill` propagates before this line, leaving the vector
    // empty).
    unsafe { values.set_len(len) };
    values
}

/// Helpers of the op tests.
#[cfg(test)]
mod test_util {
    use burn::tensor::Tensor;
    use rand::RngExt;
    use rand::rngs::StdRng;

    /// `n` values uniform in [-1, 1).
    pub fn random(n: usize, rng: &mut StdRng) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// The values of an f32 tensor.
    pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().expect("f32 tensor")
    }
}

#[cfg(test)]
mod tests {
    use super::{par_chunk_pairs_zeroed, par_chunks_zeroed};

    #[test]
    fn par_chunks_zeroed_hands_each_chunk_zeroed_with_its_index() {
        // 10 values in chunks of 4: the last chunk is shorter.
        let values: Vec<i32> = par_chunks_zeroed(
            10,
            4,
            || (),
            |_, i, chunk| {
                assert!(chunk.iter().all(|&v| v == 0), "chunk {i} not zeroed");
                for (k, v) in chunk.iter_mut().enumerate().skip(1) {
                    *v = (i * 4 + k) as i32;
                }
            },
        );
        assert_eq!(values, [0, 1, 2, 3, 0, 5, 6, 7, 0, 9]);
        assert!(par_chunks_zeroed::<f32, ()>(0, 4, || (), |_, _, _| unreachable!()).is_empty());
    }

    #[test]
    fn par_chunk_pairs_zeroed_hands_matching_chunks() {
        // 3 chunks of 2 and of 3 values.
        let (a, b): (Vec<i32>, Vec<u8>) = par_chunk_pairs_zeroed(
            (6, 9),
            (2, 3),
            || (),
            |_, i, a, b| {
                assert!(a.iter().all(|&v| v == 0) && b.iter().all(|&v| v == 0), "chunk {i} not zeroed");
                a[1] = i as i32;
                b[2] = 10 + i as u8;
            },
        );
        assert_eq!(a, [0, 0, 0, 1, 0, 2]);
        assert_eq!(b, [0, 0, 10, 0, 0, 11, 0, 0, 12]);
    }
}
