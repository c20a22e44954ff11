//! The direct weight gradient with AVX-512, used where the CPU has it (no im2col matrix):
//! `dW[o, tap] = Σ_samples Σ_pixels grad[o, pixel] · x_padded[tap's channel, pixel shifted by
//! the tap's offset]`, a tap being an input channel and kernel offset. Registers hold 16-lane
//! partial sums for 8 output channels x 3 taps, so each loaded gradient vector feeds 3 fused
//! multiply-adds and each loaded input vector 8; they stay in registers over all the samples of
//! a group, and the 16 lanes are summed once at the end. The gradients of 8 channels are first
//! packed into one contiguous stream per band of rows ([`pack`]). Its speed beside im2col +
//! gemm, packed and in place, is in BENCHMARKS.md ("The flex kernels").

use std::ops::Range;

use super::Input;
use super::direct::{CHANNELS, LANES, PaddedLayout};
use super::kernels::ConvGeometry;

/// Taps accumulated together: 8 channels x 3 taps = 24 accumulators, plus 3 input vectors and
/// one gradient vector, within the 32 registers.
const TAPS: usize = 3;

/// Bytes of packed output gradient (all samples, one block of 8 channels) in one band of rows:
/// the band is read once per tile of taps, from the L2 cache.
const BAND_BYTES: usize = 128 * 1024;

/// Reusable buffers of one task: the padded samples, a band of packed gradients and the
/// lane-wise partial sums.
#[derive(Default)]
pub struct Scratch {
    padded: Vec<f32>,
    packed: Vec<f32>,
    lanes: Vec<f32>,
}

/// Whether the direct weight gradient suits `g`: its output rows (or the flat layout's chunks)
/// fill 16 lanes. On narrower rows (MultiRoom's maps: 3-10 pixels) most lanes would idle, and
/// im2col + gemm is faster there (BENCHMARKS.md, "The flex kernels").
pub fn suits(g: &ConvGeometry) -> bool {
    PaddedLayout::new(g).vrow_len >= LANES
}

/// The transposed weight gradient `dWᵀ` (`[c_in * kh * kw, c_out]`, as the im2col path sums it)
/// of the samples `xs` (`[n, c_in, h, w]`, read per `input`) given their output gradients
/// `grads` (`[n, c_out, out_h, out_w]`). Each entry is a sum in a fixed order (lane by lane over
/// bands of rows, samples, rows and 16-pixel chunks, then the 16 lanes), so it does not depend
/// on how the caller spreads groups over threads. Panics unless [`super::direct::available`].
pub fn weight_grad(g: &ConvGeometry, xs: &[f32], grads: &[f32], input: Input, scratch: &mut Scratch) -> Vec<f32> {
    assert!(super::direct::available(), "the direct weight gradient needs AVX-512");
    let samples = xs.len() / g.input_len();
    assert_eq!(xs.len(), samples * g.input_len(), "conv input length");
    assert_eq!(grads.len(), samples * g.output_len(), "samples of x and grad");
    let layout = PaddedLayout::new(g);
    let [kh, kw] = g.kernel;
    // Where each tap's input starts in a padded sample, and the lanes of its reads inside the
    // row; the tap order is the weight's (channel, kernel row, kernel column).
    let taps_of = || (0..g.c_in).flat_map(|c| (0..kh).flat_map(move |i| (0..kw).map(move |j| (c, i, j))));
    let offsets: Vec<usize> = taps_of().map(|(c, i, j)| layout.tap_offset(c, i, j)).collect();
    let masks: Vec<u16> = taps_of().map(|(_, _, j)| layout.mask(j)).collect();
    let taps = offsets.len();
    let blocks = g.c_out.div_ceil(CHANNELS);
    let Scratch { padded, packed, lanes } = scratch;
    padded.resize(samples * layout.sample_len(g), 0.0);
    for (x, padded) in xs.chunks_exact(g.input_len()).zip(padded.chunks_exact_mut(layout.sample_len(g))) {
        layout.pad(g, x, padded, input);
    }
    lanes.clear();
    lanes.resize(blocks * taps * CHANNELS * LANES, 0.0);
    let chunks = layout.vrow_len.div_ceil(LANES);
    let band = (BAND_BYTES / (samples * chunks * CHANNELS * LANES * size_of::<f32>())).clamp(1, layout.vrows);
    for first_row in (0..layout.vrows).step_by(band) {
        let rows = first_row..(first_row + band).min(layout.vrows);
        for block in 0..blocks {
            pack(g, &layout, grads, block, rows.clone(), packed);
            let tile = Tile { g, layout: &layout, samples, padded, packed, rows: rows.clone() };
            let mut tap = 0;
            while tap < taps {
                let slots = &mut lanes[(block * taps + tap) * CHANNELS * LANES..];
                // SAFETY: `available()` was checked above; `padded` holds the padded samples,
                // `packed` the band of their gradients, and `slots` the partial sums of this
                // block's taps from `tap` on.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    tap += match taps - tap {
                        1 => tile.accumulate::<1>(&offsets[tap..], &masks[tap..], slots),
                        2 => tile.accumulate::<2>(&offsets[tap..], &masks[tap..], slots),
                        _ => tile.accumulate::<TAPS>(&offsets[tap..], &masks[tap..], slots),
                    }
                };
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("the direct weight gradient runs only where AVX-512 was detected {tile:p}");
            }
        }
    }
    // [block, tap, channel, lane] -> [tap, c_out], each entry its 16 lanes summed in order.
    let mut dw_t = vec![0.0f32; taps * g.c_out];
    for (t, row) in dw_t.chunks_exact_mut(g.c_out).enumerate() {
        for (o, d) in row.iter_mut().enumerate() {
            let (block, channel) = (o / CHANNELS, o % CHANNELS);
            *d = lanes[((block * taps + t) * CHANNELS + channel) * LANES..][..LANES].iter().sum();
        }
    }
    dw_t
}

/// Copies virtual rows `rows` ([`PaddedLayout`]) of block `block`'s 8 gradient channels of every
/// sample into `packed` as `[sample, row, 16-pixel chunk, channel, 16 lanes]`, zeros past the
/// row's end and past `c_out`: the kernel then reads one contiguous stream, without masks.
/// (Read in place, the 8 planes, 4 KiB apart in the 32x32 layers, fall into the same L1 cache
/// sets.)
fn pack(
    g: &ConvGeometry,
    layout: &PaddedLayout,
    grads: &[f32],
    block: usize,
    rows: Range<usize>,
    packed: &mut Vec<f32>,
) {
    let plane = g.output()[0] * g.output()[1];
    let chunks = layout.vrow_len.div_ceil(LANES);
    let samples = grads.len() / g.output_len();
    packed.clear();
    packed.resize(samples * rows.len() * chunks * CHANNELS * LANES, 0.0);
    let channels = CHANNELS.min(g.c_out - block * CHANNELS);
    let mut at = packed.chunks_exact_mut(CHANNELS * LANES);
    for grad in grads.chunks_exact(g.output_len()) {
        for v in rows.clone() {
            for c0 in (0..layout.vrow_len).step_by(LANES) {
                let n = LANES.min(layout.vrow_len - c0);
                let slot = at.next().expect("packed band holds every chunk");
                for (o, lanes) in slot.chunks_exact_mut(LANES).take(channels).enumerate() {
                    let start = (block * CHANNELS + o) * plane + v * layout.vrow_len + c0;
                    lanes[..n].copy_from_slice(&grad[start..][..n]);
                }
            }
        }
    }
}

/// A group's padded samples and the packed gradients of one block of 8 output channels, over a
/// band of output rows.
struct Tile<'a> {
    g: &'a ConvGeometry,
    layout: &'a PaddedLayout,
    samples: usize,
    padded: &'a [f32],
    packed: &'a [f32],
    rows: Range<usize>,
}

impl Tile<'_> {
    /// Adds the products of the band's rows, over all samples, for the first `T` taps of
    /// `offsets` (their reads masked by `masks`) into `slots` (`[T, 8 channels, 16 lanes]`);
    /// returns `T`. (Plain loads where no mask is needed are no faster here.)
    ///
    /// # Safety
    /// The CPU must support AVX-512F. `padded` holds `samples` samples padded by `layout`,
    /// `packed` their gradients' band ([`pack`]), `slots` at least `T * 8 * 16` floats, and each
    /// offset is a tap's start in a padded sample ([`PaddedLayout::tap_offset`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn accumulate<const T: usize>(&self, offsets: &[usize], masks: &[u16], slots: &mut [f32]) -> usize {
        use std::arch::x86_64::{__m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_maskz_loadu_ps, _mm512_storeu_ps};

        let Tile { g, layout, samples, padded, packed, ref rows } = *self;
        let (chunks, sample_len) = (layout.vrow_len.div_ceil(LANES), layout.sample_len(g));
        assert!(offsets.len() >= T && masks.len() >= T && slots.len() >= T * CHANNELS * LANES);
        assert!(rows.end <= layout.vrows);
        assert_eq!(padded.len(), samples * sample_len);
        assert_eq!(packed.len(), samples * rows.len() * chunks * CHANNELS * LANES);
        // The farthest read, 16 floats from the last chunk of the last row of the last tap,
        // stays inside the padded sample (as in the forward kernel).
        assert!(offsets[T - 1] + (layout.vrows - 1) * layout.vrow_step + chunks * LANES <= sample_len);
        let masks: [u16; T] = std::array::from_fn(|t| masks[t]);
        // acc[o][t]: output channel o of the block, tap t; slot (t, o).
        let mut acc: [[__m512; T]; CHANNELS] = std::array::from_fn(|o| {
            // SAFETY: slot (t, o) holds 16 floats inside `slots`.
            std::array::from_fn(|t| unsafe { _mm512_loadu_ps(slots[(t * CHANNELS + o) * LANES..].as_ptr()) })
        });
        let mut grad = packed.as_ptr();
        for s in 0..samples {
            for v in rows.clone() {
                // SAFETY: virtual row v of each tap is inside sample s (the asserts above).
                let inputs: [*const f32; T] = std::array::from_fn(|t| unsafe {
                    padded.as_ptr().add(s * sample_len + offsets[t] + v * layout.vrow_step)
                });
                for c0 in (0..chunks * LANES).step_by(LANES) {
                    // SAFETY: the 16 floats from column c0 of each tap's row are inside the
                    // padded sample (the assert above), the lanes outside the row masked off.
                    // Past the row's end they meet zeros of the packed gradient.
                    let x: [__m512; T] =
                        std::array::from_fn(|t| unsafe { _mm512_maskz_loadu_ps(masks[t], inputs[t].add(c0)) });
                    for (o, acc) in acc.iter_mut().enumerate() {
                        // SAFETY: the band holds 8 x 16 floats per chunk, walked in order.
                        let gv = unsafe { _mm512_loadu_ps(grad.add(o * LANES)) };
                        for (a, &x) in acc.iter_mut().zip(&x) {
                            *a = _mm512_fmadd_ps(gv, x, *a);
                        }
                    }
                    // SAFETY: at most one past the band's end after its last chunk.
                    grad = unsafe { grad.add(CHANNELS * LANES) };
                }
            }
        }
        for (o, acc) in acc.iter().enumerate() {
            for (t, a) in acc.iter().enumerate() {
                // SAFETY: slot (t, o) holds 16 floats inside `slots`.
                unsafe { _mm512_storeu_ps(slots[(t * CHANNELS + o) * LANES..].as_mut_ptr(), *a) };
            }
        }
        T
    }
}
