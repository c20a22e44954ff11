//! Direct convolution with AVX-512, used where the CPU has it: no im2col matrix; per output row,
//! 16 pixels of 8 output channels are accumulated in registers over every input channel and
//! kernel offset (two output rows share each broadcast weight). Used for the forward pass and,
//! with the kernel turned, the input gradient, where it beats im2col + gemm on the IMPALA-CNN's
//! maps (BENCHMARKS.md, "The flex kernels"). The weight gradient has its own direct kernel
//! (`weight_grad`). On MultiRoom's narrow maps (rows of 1-10 pixels, most of the 16 lanes idle)
//! the direct and im2col paths are about as fast.

use std::mem::MaybeUninit;

use super::Input;
use super::kernels::ConvGeometry;
use crate::ops::par_chunks_written;

/// Padded rows shorter than this (floats) are zeroed whole before the copies.
const SHORT_ROW: usize = 64;

/// Output pixels per register (AVX-512: 16 f32).
pub(super) const LANES: usize = 16;
/// Output channels accumulated together.
pub(super) const CHANNELS: usize = 8;

/// Whether this CPU runs the direct kernel.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `[batch, c_in, h, w]` (or its relu, per `input`) convolved with `weight`
/// `[c_out, c_in, kh, kw]`, plus `bias` when given. With `keep`, a tensor of the output's shape,
/// each output value is zeroed where `keep` is not positive (`keep <= 0`; a NaN keeps): the
/// gradient of a relu whose input was `keep`. Panics unless [`available`].
pub fn forward(
    g: &ConvGeometry,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    input: Input,
    keep: Option<&[f32]>,
) -> Vec<f32> {
    assert!(available(), "the direct convolution needs AVX-512");
    if let Some(keep) = keep {
        assert_eq!(keep.len(), g.batch * g.output_len(), "relu gradient mask length");
    }
    let mut bias_blocked = vec![0.0f32; g.c_out.div_ceil(CHANNELS) * CHANNELS];
    if let Some(bias) = bias {
        bias_blocked[..g.c_out].copy_from_slice(bias);
    }
    let kernel = Kernel { g, layout: PaddedLayout::new(g), blocked: block_weights(g, weight), bias: bias_blocked };
    let write_sample = |padded: &mut Vec<f32>, b: usize, out: &mut [MaybeUninit<f32>]| {
        padded.resize(kernel.layout.sample_len(g), 0.0);
        kernel.layout.pad(g, &x[b * g.input_len()..][..g.input_len()], padded, input);
        let keep = keep.map(|keep| &keep[b * g.output_len()..][..g.output_len()]);
        // SAFETY: `available()` was checked above; `padded`, `keep` and `out` have the lengths
        // `convolve_sample` reads and writes (see `PaddedLayout`).
        #[cfg(target_arch = "x86_64")]
        unsafe {
            kernel.convolve_sample(padded, keep, out)
        }
    };
    // SAFETY: `convolve_sample` writes every value of its sample's output.
    unsafe { par_chunks_written(g.batch * g.output_len(), g.output_len(), Vec::new, write_sample) }
}

/// Where a sample's zero-padded input lives, and how the kernels walk it in 16-pixel chunks.
///
/// Usually `[c_in, rows, row_len]`, each row long enough for the last chunk's reads, and the
/// output is walked row by row. When the output is as wide as the input and narrower than a
/// chunk, with rows that tile chunks exactly (the IMPALA-CNN's 8x8 maps), a row-by-row walk
/// would leave lanes idle (half of them at width 8); the "flat" layout instead keeps rows of
/// exactly `w` floats (the padding rows above and below, no padding columns), so that a chunk of
/// 16 output pixels spanning `16 / w` rows reads 16 consecutive inputs per kernel offset, the
/// lanes whose column falls off a row masked to zero.
pub(super) struct PaddedLayout {
    /// Rows of each channel: height plus the padding above and below.
    rows: usize,
    /// Floats per row.
    row_len: usize,
    /// Floats before the first channel (the flat layout reads up to `pad_w` before a row).
    lead: usize,
    /// Floats after the last channel, for the last chunk's reads.
    tail: usize,
    /// Columns of padding the flat layout leaves out (0 otherwise).
    flat_pad: usize,
    /// Output rows as the kernels walk them ("virtual" rows of 16 pixels in the flat layout).
    pub vrows: usize,
    /// Output floats per virtual row.
    pub vrow_len: usize,
    /// Input floats from one virtual row to the next.
    pub vrow_step: usize,
    /// Per kernel column, the lanes whose input column lies in the row (all, unless flat).
    masks: Vec<u16>,
}

impl PaddedLayout {
    pub(super) fn new(g: &ConvGeometry) -> Self {
        let ([h, w], [out_h, out_w], [pad_h, pad_w], kw) = (g.input, g.output(), g.padding, g.kernel[1]);
        let rows = h + 2 * pad_h;
        let flat = out_w == w && w < LANES && LANES.is_multiple_of(w) && (out_h * w).is_multiple_of(LANES);
        if flat {
            let masks = (0..kw)
                .map(|j| {
                    (0..LANES)
                        .filter(|l| (l % w + j).checked_sub(pad_w).is_some_and(|c| c < w))
                        .map(|l| 1u16 << l)
                        .sum()
                })
                .collect();
            let (vrows, vrow_len, vrow_step) = (out_h * w / LANES, LANES, LANES);
            return PaddedLayout {
                rows,
                row_len: w,
                lead: pad_w,
                tail: kw,
                flat_pad: pad_w,
                vrows,
                vrow_len,
                vrow_step,
                masks,
            };
        }
        let row_len = (w + 2 * pad_w).max(out_w.div_ceil(LANES) * LANES + kw - 1);
        let masks = vec![u16::MAX; kw];
        PaddedLayout {
            rows,
            row_len,
            lead: 0,
            tail: 0,
            flat_pad: 0,
            vrows: out_h,
            vrow_len: out_w,
            vrow_step: row_len,
            masks,
        }
    }

    /// Floats of one padded sample.
    pub(super) fn sample_len(&self, g: &ConvGeometry) -> usize {
        self.lead + g.c_in * self.rows * self.row_len + self.tail
    }

    /// Where the input of output pixel (virtual row 0, column 0) for kernel offset `(i, j)` of
    /// input channel `c` lies in a padded sample; virtual row `v`, column `c0` adds
    /// `v * vrow_step + c0`.
    pub(super) fn tap_offset(&self, c: usize, i: usize, j: usize) -> usize {
        self.lead + (c * self.rows + i) * self.row_len + j - self.flat_pad
    }

    /// Whether some reads must be masked (the flat layout, unless the kernel is one column).
    pub(super) fn is_masked(&self) -> bool {
        self.masks.iter().any(|&mask| mask != u16::MAX)
    }

    /// The lanes of kernel column `j`'s reads that lie in the input row.
    pub(super) fn mask(&self, j: usize) -> u16 {
        self.masks[j]
    }

    /// Writes sample `x` `[c_in, h, w]` (or its relu, per `input`) into `padded`
    /// ([`Self::sample_len`] floats), zeros around it: each value written once.
    pub(super) fn pad(&self, g: &ConvGeometry, x: &[f32], padded: &mut [f32], input: Input) {
        let ([h, w], [pad_h, pad_w]) = (g.input, g.padding);
        assert_eq!(padded.len(), self.sample_len(g), "padded sample length");
        let copy = |dst: &mut [f32], src: &[f32]| match input {
            Input::AsIs => dst.copy_from_slice(src),
            Input::Relu => dst.iter_mut().zip(src).for_each(|(d, &v)| *d = relu(v)),
        };
        let (lead, rest) = padded.split_at_mut(self.lead);
        let (channels, tail) = rest.split_at_mut(g.c_in * self.rows * self.row_len);
        lead.fill(0.0);
        tail.fill(0.0);
        for (plane, padded) in x.chunks_exact(h * w).zip(channels.chunks_exact_mut(self.rows * self.row_len)) {
            let (above, rest) = padded.split_at_mut(pad_h * self.row_len);
            let (inside, below) = rest.split_at_mut(h * self.row_len);
            above.fill(0.0);
            below.fill(0.0);
            if self.row_len == w {
                copy(inside, plane);
                continue;
            }
            if self.row_len < SHORT_ROW {
                // Short rows: one fill, then the copies (three calls a row cost more).
                inside.fill(0.0);
            }
            for (row, padded) in plane.chunks_exact(w).zip(inside.chunks_exact_mut(self.row_len)) {
                let (left, rest) = padded.split_at_mut(pad_w);
                let (middle, right) = rest.split_at_mut(w);
                if self.row_len >= SHORT_ROW {
                    left.fill(0.0);
                    right.fill(0.0);
                }
                copy(middle, row);
            }
        }
    }
}

/// `[c_out, c_in, kh, kw]` -> `[c_out / 8, c_in, kh, kw, 8]` (zeros past `c_out`): the 8 weights
/// one input cell meets are adjacent.
fn block_weights(g: &ConvGeometry, weight: &[f32]) -> Vec<f32> {
    let taps = g.c_in * g.kernel[0] * g.kernel[1];
    let mut blocked = vec![0.0f32; g.c_out.div_ceil(CHANNELS) * taps * CHANNELS];
    for (o, filter) in weight.chunks_exact(taps).enumerate() {
        let base = (o / CHANNELS) * taps * CHANNELS + o % CHANNELS;
        for (t, &v) in filter.iter().enumerate() {
            blocked[base + t * CHANNELS] = v;
        }
    }
    blocked
}

/// What the forward kernel shares across samples.
struct Kernel<'a> {
    g: &'a ConvGeometry,
    layout: PaddedLayout,
    /// The weight in `[c_out / 8, c_in, kh, kw, 8]` ([`block_weights`]).
    blocked: Vec<f32>,
    /// The bias, zeros to a multiple of 8 channels.
    bias: Vec<f32>,
}

impl Kernel<'_> {
    /// One sample: for each block of 8 output channels, pair of output rows and 16-pixel chunk,
    /// the sum over input channels and kernel offsets, in that order (so each output is the
    /// same sum whatever the blocking).
    ///
    /// # Safety
    /// The CPU must support AVX-512F. `padded` holds the sample padded by `self.layout`; `keep`
    /// and `out` hold `c_out * out_h * out_w` floats.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn convolve_sample(&self, padded: &[f32], keep: Option<&[f32]>, out: &mut [MaybeUninit<f32>]) {
        let g = self.g;
        let taps = g.c_in * g.kernel[0] * g.kernel[1];
        assert_eq!(padded.len(), self.layout.sample_len(g));
        assert_eq!(self.blocked.len(), g.c_out.div_ceil(CHANNELS) * taps * CHANNELS);
        assert_eq!(self.bias.len(), g.c_out.div_ceil(CHANNELS) * CHANNELS);
        assert_eq!(out.len(), g.output_len());
        assert!(keep.is_none_or(|keep| keep.len() == g.output_len()));
        let [kh, kw] = g.kernel;
        let vrows = self.layout.vrows;
        let last_read = self.layout.tap_offset(g.c_in - 1, kh - 1, kw - 1)
            + (vrows - 1) * self.layout.vrow_step
            + self.layout.vrow_len.div_ceil(LANES) * LANES;
        assert!(last_read <= padded.len(), "the convolution reads past the padded sample");
        for block in 0..g.c_out.div_ceil(CHANNELS) {
            let mut v = 0;
            // Two output rows share each broadcast weight: 16 accumulators, 2 loads of inputs
            // and 8 broadcasts per 16 fused multiply-adds.
            // SAFETY (all four calls): forwarded contract; virtual rows v .. v + ROWS exist.
            while v + 2 <= vrows {
                match self.layout.is_masked() {
                    true => unsafe { self.convolve_rows::<2, true>(padded, keep, out, block, v) },
                    false => unsafe { self.convolve_rows::<2, false>(padded, keep, out, block, v) },
                }
                v += 2;
            }
            if v < vrows {
                match self.layout.is_masked() {
                    true => unsafe { self.convolve_rows::<1, true>(padded, keep, out, block, v) },
                    false => unsafe { self.convolve_rows::<1, false>(padded, keep, out, block, v) },
                }
            }
        }
    }

    /// Virtual output rows `v .. v + ROWS` of channel block `block`; `MASKED` says whether the
    /// reads are masked ([`PaddedLayout::is_masked`]; masking every read, all lanes set, is
    /// slower than plain loads).
    ///
    /// # Safety
    /// As [`Kernel::convolve_sample`], with `v + ROWS <= vrows`. The input reads stay inside
    /// `padded`: a chunk starting at column `c0 < vrow_len` of virtual row `v` reads 16 floats
    /// from `tap_offset(c, i, j) + v * vrow_step + c0`, at most `sample_len` (the layout's rows
    /// and tail cover the last chunk of the last row of the last tap).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn convolve_rows<const ROWS: usize, const MASKED: bool>(
        &self,
        padded: &[f32],
        keep: Option<&[f32]>,
        out: &mut [MaybeUninit<f32>],
        block: usize,
        v: usize,
    ) {
        use std::arch::x86_64::{
            __m512, _CMP_NLE_UQ, _mm512_cmp_ps_mask, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps,
            _mm512_maskz_loadu_ps, _mm512_maskz_mov_ps, _mm512_set1_ps, _mm512_setzero_ps,
        };

        let Kernel { g, layout, .. } = self;
        let [kh, kw] = g.kernel;
        let taps = g.c_in * kh * kw;
        let weights = self.blocked[block * taps * CHANNELS..][..taps * CHANNELS].as_ptr();
        let channels = CHANNELS.min(g.c_out - block * CHANNELS);
        let bias = &self.bias[block * CHANNELS..][..CHANNELS];
        let plane = g.output()[0] * g.output()[1];
        debug_assert!(v + ROWS <= layout.vrows);
        for c0 in (0..layout.vrow_len).step_by(LANES) {
            // acc[o][r]: output channel o of the block, virtual row v + r.
            let mut acc: [[__m512; ROWS]; CHANNELS] = [[_mm512_set1_ps(0.0); ROWS]; CHANNELS];
            for (a, &b) in acc.iter_mut().zip(bias) {
                *a = [_mm512_set1_ps(b); ROWS];
            }
            for c in 0..g.c_in {
                for i in 0..kh {
                    let rows: [*const f32; ROWS] = std::array::from_fn(|r| {
                        padded[layout.tap_offset(c, i, 0) + (v + r) * layout.vrow_step + c0..].as_ptr()
                    });
                    for j in 0..kw {
                        // SAFETY: see the contract; 16 floats from the chunk's start are inside
                        // `padded`, the lanes outside the row masked off.
                        let x: [__m512; ROWS] = std::array::from_fn(|r| unsafe {
                            match MASKED {
                                true => _mm512_maskz_loadu_ps(layout.mask(j), rows[r].add(j)),
                                false => _mm512_loadu_ps(rows[r].add(j)),
                            }
                        });
                        // SAFETY: tap (c, i, j) of this block is inside `blocked`.
                        let w = unsafe { weights.add(((c * kh + i) * kw + j) * CHANNELS) };
                        for (o, acc) in acc.iter_mut().enumerate() {
                            // SAFETY: o < 8 weights of this tap.
                            let w = _mm512_set1_ps(unsafe { *w.add(o) });
                            for (a, &x) in acc.iter_mut().zip(&x) {
                                *a = _mm512_fmadd_ps(w, x, *a);
                            }
                        }
                    }
                }
            }
            let n = LANES.min(layout.vrow_len - c0);
            let mask = (u32::MAX >> (32 - n)) as u16;
            for (o, acc) in acc.iter().take(channels).enumerate() {
                for (r, &a) in acc.iter().enumerate() {
                    let at = (block * CHANNELS + o) * plane + (v + r) * layout.vrow_len + c0;
                    let a = match keep {
                        Some(keep) => {
                            // SAFETY: the n unmasked lanes are values of `keep` (same shape as
                            // `out`); the others are not read.
                            let keep = unsafe { _mm512_maskz_loadu_ps(mask, keep[at..][..n].as_ptr()) };
                            _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_NLE_UQ>(keep, _mm512_setzero_ps()), a)
                        }
                        None => a,
                    };
                    let row = &mut out[at..][..n];
                    // SAFETY: the n unmasked lanes go to the n values of `row`; the others are
                    // not written.
                    unsafe { _mm512_mask_storeu_ps(row.as_mut_ptr().cast(), mask, a) };
                }
            }
        }
    }
}

/// `relu(v)` as burn computes it: 0 where `v <= 0`, else `v` (a NaN stays NaN).
pub(super) fn relu(v: f32) -> f32 {
    if v <= 0.0 { 0.0 } else { v }
}

/// The gradient `d` through a relu whose input was `v`, as burn computes it: 0 where `v <= 0`,
/// else `d` (a NaN input keeps it). [`Kernel::convolve_rows`] applies the same rule with a
/// vector compare.
pub(super) fn relu_gradient(v: f32, d: f32) -> f32 {
    if v <= 0.0 { 0.0 } else { d }
}
