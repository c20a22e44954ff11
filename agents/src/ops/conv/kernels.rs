//! The f32 kernels of the stride-1 convolution on NCHW buffers: im2col, one gemm per sample,
//! col2im for the input gradient. Samples run in parallel on rayon's pool (the pool burn-flex
//! uses); every sum has a fixed order, so results do not depend on the number of threads.

use gemm::{Parallelism, gemm};

use std::borrow::Cow;

use rayon::prelude::*;

use super::direct::{self, relu, relu_gradient};
use super::{Input, weight_grad};
use crate::ops::par_chunks_zeroed;

/// Samples whose weight gradients are summed together before the partial sums are added in
/// order: fixed, so the sum's rounding does not depend on how rayon splits the batch.
const SAMPLES_PER_PARTIAL_SUM: usize = 8;

/// Geometry of a stride-1, dilation-1, single-group convolution with symmetric zero padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Samples in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output channels.
    pub c_out: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Zero rows (top and bottom) and columns (left and right) around the input.
    pub padding: [usize; 2],
}

impl ConvGeometry {
    /// Output height and width: `input + 2 * padding - kernel + 1`.
    pub fn output(&self) -> [usize; 2] {
        std::array::from_fn(|d| self.input[d] + 2 * self.padding[d] + 1 - self.kernel[d])
    }

    /// Whether the kernel fits the padded input (at least one output pixel).
    pub fn is_valid(&self) -> bool {
        (0..2).all(|d| self.kernel[d] >= 1 && self.input[d] + 2 * self.padding[d] >= self.kernel[d])
    }

    /// Floats of one input sample, `c_in * height * width`.
    pub(super) fn input_len(&self) -> usize {
        self.c_in * self.input[0] * self.input[1]
    }

    /// Floats of one output sample, `c_out * out_height * out_width`.
    pub(super) fn output_len(&self) -> usize {
        self.c_out * self.pixels()
    }

    /// Output pixels of one channel: the gemm's `n`.
    fn pixels(&self) -> usize {
        let [h, w] = self.output();
        h * w
    }

    /// Length of one flattened receptive field, `c_in * kernel_h * kernel_w`: the gemm's `k`.
    fn patch_len(&self) -> usize {
        self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// A 1x1 kernel without padding reads the input as its own im2col matrix.
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.padding == [0, 0]
    }
}

/// `output[b] = weight ⋆ x[b] + bias` (or `weight ⋆ relu(x[b]) + bias`, per `input`): `x` is
/// `[batch, c_in, h, w]`, `weight` `[c_out, c_in, kh, kw]`, `bias` `[c_out]`; returns
/// `[batch, c_out, out_h, out_w]`. The direct kernel where the CPU has AVX-512, else im2col and
/// gemm.
pub fn forward(g: &ConvGeometry, x: &[f32], weight: &[f32], bias: &[f32], input: Input) -> Vec<f32> {
    check_lengths(g, x, weight);
    assert_eq!(bias.len(), g.c_out, "conv bias length");
    match direct::available() {
        true => direct::forward(g, x, weight, Some(bias), input, None),
        false => im2col_forward(g, &read(x, input), weight, bias),
    }
}

/// [`forward`] of `x` itself by im2col and one gemm per sample.
pub(super) fn im2col_forward(g: &ConvGeometry, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    let (k, n) = (g.patch_len(), g.pixels());
    par_chunks_zeroed(g.batch * g.output_len(), g.output_len(), Vec::new, |col, b, out| {
        let patches = patches(g, &x[b * g.input_len()..][..g.input_len()], col);
        matmul(out, [g.c_out, n, k], (weight, Stored::AsIs), (patches, Stored::AsIs), Accumulate::No);
        for (row, &b) in out.chunks_exact_mut(n).zip(bias) {
            row.iter_mut().for_each(|v| *v += b);
        }
    })
}

/// Gradient of the loss with respect to the input `x` (`[batch, c_in, h, w]`, read per
/// `input`); `grad` is `[batch, c_out, out_h, out_w]`. With the direct kernel (AVX-512, padding
/// below the kernel): the convolution of `grad` with the weight's channels swapped and its
/// kernel turned by 180 degrees, padded by `kernel - 1 - padding`; else
/// `col2im(weightᵀ · grad[b])` per sample. With [`Input::Relu`], zero where `x <= 0`.
pub fn input_grad(g: &ConvGeometry, x: &[f32], weight: &[f32], grad: &[f32], input: Input) -> Vec<f32> {
    check_lengths(g, x, weight);
    assert_eq!(grad.len(), g.batch * g.output_len(), "conv output gradient length");
    let [kh, kw] = g.kernel;
    if !direct::available() || g.padding[0] >= kh || g.padding[1] >= kw {
        let mut dx = im2col_input_grad(g, weight, grad);
        if input == Input::Relu {
            dx.par_chunks_mut(g.input_len()).zip(x.par_chunks(g.input_len())).for_each(|(dx, x)| {
                dx.iter_mut().zip(x).for_each(|(d, &v)| *d = relu_gradient(v, *d));
            });
        }
        return dx;
    }
    let transposed = ConvGeometry {
        batch: g.batch,
        c_in: g.c_out,
        input: g.output(),
        c_out: g.c_in,
        kernel: g.kernel,
        padding: [kh - 1 - g.padding[0], kw - 1 - g.padding[1]],
    };
    // [c_out, c_in, kh, kw] -> [c_in, c_out, kh, kw], each kernel reversed.
    let mut turned = vec![0.0f32; weight.len()];
    for (o, filters) in weight.chunks_exact(g.c_in * kh * kw).enumerate() {
        for (i, kernel) in filters.chunks_exact(kh * kw).enumerate() {
            let dst = &mut turned[(i * g.c_out + o) * kh * kw..][..kh * kw];
            dst.iter_mut().zip(kernel.iter().rev()).for_each(|(d, &v)| *d = v);
        }
    }
    let keep = (input == Input::Relu).then_some(x);
    direct::forward(&transposed, grad, &turned, None, Input::AsIs, keep)
}

/// [`input_grad`] for `x` itself by gemm and col2im.
pub(super) fn im2col_input_grad(g: &ConvGeometry, weight: &[f32], grad: &[f32]) -> Vec<f32> {
    let (k, n) = (g.patch_len(), g.pixels());
    par_chunks_zeroed(g.batch * g.input_len(), g.input_len(), Vec::new, |dcol: &mut Vec<f32>, b, dx| {
        let grad = &grad[b * g.output_len()..][..g.output_len()];
        let dims = [k, n, g.c_out];
        if g.is_pointwise() {
            matmul(dx, dims, (weight, Stored::Transposed), (grad, Stored::AsIs), Accumulate::No);
        } else {
            dcol.resize(k * n, 0.0);
            matmul(dcol, dims, (weight, Stored::Transposed), (grad, Stored::AsIs), Accumulate::No);
            col2im(g, dcol.as_mut_slice(), dx);
        }
    })
}

/// What the convolution reads of `x`: `x` itself, or a copy with the relu applied.
fn read(x: &[f32], input: Input) -> Cow<'_, [f32]> {
    match input {
        Input::AsIs => Cow::Borrowed(x),
        Input::Relu => Cow::Owned(x.par_iter().map(|&v| relu(v)).collect()),
    }
}

/// Gradients of the loss with respect to the weight (`Σ_b grad[b] · im2col(x[b])ᵀ`,
/// `[c_out, c_in, kh, kw]`) and the bias (`[c_out]`). Each group of
/// `SAMPLES_PER_PARTIAL_SUM` samples is one task; the groups' sums are added in order. The
/// direct kernel where the CPU has AVX-512 and the output rows fill its vectors
/// ([`weight_grad::suits`]), else im2col and gemm.
pub fn param_grads(g: &ConvGeometry, x: &[f32], grad: &[f32], input: Input) -> (Vec<f32>, Vec<f32>) {
    match direct::available() && weight_grad::suits(g) {
        true => param_grads_by(g, x, grad, Some(input)),
        false => param_grads_by(g, &read(x, input), grad, None),
    }
}

/// [`param_grads`] of `x` itself by im2col and gemm (the tests compare the two paths).
#[cfg(test)]
pub(super) fn im2col_param_grads(g: &ConvGeometry, x: &[f32], grad: &[f32]) -> (Vec<f32>, Vec<f32>) {
    param_grads_by(g, x, grad, None)
}

/// [`param_grads`] of `x` itself by the direct kernel, whatever [`weight_grad::suits`] says
/// (the tests compare the two paths).
#[cfg(test)]
pub(super) fn direct_param_grads(g: &ConvGeometry, x: &[f32], grad: &[f32]) -> (Vec<f32>, Vec<f32>) {
    param_grads_by(g, x, grad, Some(Input::AsIs))
}

/// [`param_grads`] with the direct weight gradient reading `x` per `direct`, or, when `direct`
/// is None, of `x` itself by im2col and gemm.
fn param_grads_by(g: &ConvGeometry, x: &[f32], grad: &[f32], direct: Option<Input>) -> (Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), g.batch * g.input_len(), "conv input length");
    assert_eq!(grad.len(), g.batch * g.output_len(), "conv output gradient length");
    let partials: Vec<(Vec<f32>, Vec<f32>)> = x
        .par_chunks(SAMPLES_PER_PARTIAL_SUM * g.input_len())
        .zip(grad.par_chunks(SAMPLES_PER_PARTIAL_SUM * g.output_len()))
        .map_init(
            || (weight_grad::Scratch::default(), Vec::new(), Vec::new()),
            |(scratch, col, grad_t), (xs, grads)| {
                let dw = match direct {
                    Some(input) => weight_grad::weight_grad(g, xs, grads, input, scratch),
                    None => im2col_weight_grad(g, xs, grads, col, grad_t),
                };
                let db = grads.chunks_exact(g.output_len()).fold(vec![0.0f32; g.c_out], |mut db, grad| {
                    for (d, plane) in db.iter_mut().zip(grad.chunks_exact(g.pixels())) {
                        *d += lane_sum(plane);
                    }
                    db
                });
                (dw, db)
            },
        )
        .collect();
    let mut sums = partials.into_iter();
    let (mut dw_t, mut db) = sums.next().unwrap_or_else(|| (vec![0.0; g.c_out * g.patch_len()], vec![0.0; g.c_out]));
    for (pw, pb) in sums {
        dw_t.iter_mut().zip(&pw).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(&pb).for_each(|(a, b)| *a += b);
    }
    // [k, c_out] -> [c_out, k], the weight's layout.
    let dw = (0..g.c_out).flat_map(|c| dw_t.iter().skip(c).step_by(g.c_out).copied()).collect();
    (dw, db)
}

/// The transposed weight gradient `dWᵀ` (`[c_in * kh * kw, c_out]`) of samples `xs` given their
/// output gradients `grads`, by im2col and gemm: `dWᵀ [k, c_out] += im2col [k, n] · gradᵀ
/// [n, c_out]` per sample.
/// With the small output gradient transposed (rather than the large im2col matrix) gemm reads
/// both operands in their fast order, which `dW = grad · im2colᵀ` does not (BENCHMARKS.md, "The
/// flex kernels").
fn im2col_weight_grad(
    g: &ConvGeometry,
    xs: &[f32],
    grads: &[f32],
    col: &mut Vec<f32>,
    grad_t: &mut Vec<f32>,
) -> Vec<f32> {
    let (k, n) = (g.patch_len(), g.pixels());
    grad_t.resize(n * g.c_out, 0.0);
    let mut dw_t = vec![0.0f32; k * g.c_out];
    for (x, grad) in xs.chunks_exact(g.input_len()).zip(grads.chunks_exact(g.output_len())) {
        let patches = patches(g, x, col);
        for (p, pixel) in grad_t.chunks_exact_mut(g.c_out).enumerate() {
            pixel.iter_mut().zip(grad[p..].iter().step_by(n)).for_each(|(t, &v)| *t = v);
        }
        matmul(&mut dw_t, [k, g.c_out, n], (patches, Stored::AsIs), (grad_t, Stored::AsIs), Accumulate::Yes);
    }
    dw_t
}

/// The sum of `values` in 16 interleaved partial sums added at the end: a fixed order (so the
/// result is deterministic) that vectorises, where a sequential sum waits on each addition.
fn lane_sum(values: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += v);
    }
    lanes.iter().sum::<f32>() + rest
}

fn check_lengths(g: &ConvGeometry, x: &[f32], weight: &[f32]) {
    assert!(g.is_valid(), "conv kernel {:?} larger than the padded input {:?}", g.kernel, g.input);
    assert_eq!(x.len(), g.batch * g.input_len(), "conv input length");
    assert_eq!(weight.len(), g.c_out * g.patch_len(), "conv weight length");
}

/// The `[patch_len, pixels]` im2col matrix of one sample: the sample itself for a pointwise
/// kernel, else built in `col`.
fn patches<'a>(g: &ConvGeometry, x: &'a [f32], col: &'a mut Vec<f32>) -> &'a [f32] {
    if g.is_pointwise() {
        return x;
    }
    let [height, width] = g.input;
    let (n, out_w) = (g.pixels(), g.output()[1]);
    col.resize(g.patch_len() * n, 0.0);
    for_each_patch_row(g, |channel, row, i, j| {
        let plane = &x[channel * height * width..][..height * width];
        let dst = &mut col[row * n..][..n];
        match SameWidthShift::new(g, i, j) {
            Some(shift) => {
                // One copy for all rows, then zeros where a row read past its ends.
                let (rows, block) = (shift.rows(), shift.block());
                dst[..rows.start].fill(0.0);
                dst[rows.start..block.start].fill(0.0);
                dst[block.clone()].copy_from_slice(&plane[shift.source(block.clone())]);
                dst[block.end..rows.end].fill(0.0);
                dst[rows.end..].fill(0.0);
                shift.for_each_wrapped(|q| dst[q] = 0.0);
            }
            None => for_each_output_row(g, i, j, |o, input_row, lo, hi| {
                let dst = &mut dst[o * out_w..][..out_w];
                match input_row {
                    Some(r) if hi > lo => {
                        dst[..lo].fill(0.0);
                        dst[lo..hi].copy_from_slice(&plane[r * width + lo + j - g.padding[1]..][..hi - lo]);
                        dst[hi..].fill(0.0);
                    }
                    _ => dst.fill(0.0),
                }
            }),
        }
    });
    col
}

/// Adds into `dx` (zero on entry) `dcol`'s entries at the input positions they were read from:
/// the adjoint of [`patches`]. `dcol` is scratch: its entries read from the padding are zeroed.
fn col2im(g: &ConvGeometry, dcol: &mut [f32], dx: &mut [f32]) {
    let [height, width] = g.input;
    let (n, out_w) = (g.pixels(), g.output()[1]);
    for_each_patch_row(g, |channel, row, i, j| {
        let plane = &mut dx[channel * height * width..][..height * width];
        let src = &mut dcol[row * n..][..n];
        match SameWidthShift::new(g, i, j) {
            Some(shift) => {
                shift.for_each_wrapped(|q| src[q] = 0.0);
                let block = shift.block();
                let dst = &mut plane[shift.source(block.clone())];
                dst.iter_mut().zip(&src[block]).for_each(|(d, s)| *d += s);
            }
            None => for_each_output_row(g, i, j, |o, input_row, lo, hi| {
                if let (Some(r), true) = (input_row, hi > lo) {
                    let src = &src[o * out_w + lo..][..hi - lo];
                    let dst = &mut plane[r * width + lo + j - g.padding[1]..][..hi - lo];
                    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                }
            }),
        }
    });
}

/// When the output is as wide as the input ("same" padding of the columns), the im2col row of
/// kernel offset `(i, j)` is the input plane shifted by a constant: output pixel `q` reads input
/// pixel `q + offset`, except in the output rows whose input row is padding and in the columns
/// whose input column falls off the row's ends (there the shift wraps into the neighbouring
/// row). This walks those rows in one contiguous copy instead of one per row.
struct SameWidthShift {
    width: usize,
    offset: isize,
    /// Output rows whose input row is inside the input.
    valid_rows: std::ops::Range<usize>,
    /// Output columns whose input column is inside the input.
    valid_cols: std::ops::Range<usize>,
    plane: usize,
}

impl SameWidthShift {
    fn new(g: &ConvGeometry, i: usize, j: usize) -> Option<Self> {
        let ([height, width], [out_h, out_w], [pad_h, pad_w]) = (g.input, g.output(), g.padding);
        if out_w != width {
            return None;
        }
        let row_lo = pad_h.saturating_sub(i).min(out_h);
        let row_hi = (height + pad_h).saturating_sub(i).min(out_h).max(row_lo);
        let col_lo = pad_w.saturating_sub(j).min(out_w);
        let col_hi = (width + pad_w).saturating_sub(j).min(out_w).max(col_lo);
        Some(SameWidthShift {
            width,
            offset: (i as isize - pad_h as isize) * width as isize + j as isize - pad_w as isize,
            valid_rows: row_lo..row_hi,
            valid_cols: col_lo..col_hi,
            plane: height * width,
        })
    }

    /// Output pixels of the valid rows.
    fn rows(&self) -> std::ops::Range<usize> {
        self.valid_rows.start * self.width..self.valid_rows.end * self.width
    }

    /// The output pixels of the valid rows whose shifted position lies inside the input plane.
    fn block(&self) -> std::ops::Range<usize> {
        let (start, end) = (self.rows().start as isize, self.rows().end as isize);
        let lo = start.max(-self.offset).clamp(start, end);
        let hi = end.min(self.plane as isize - self.offset).clamp(lo, end);
        lo as usize..hi as usize
    }

    /// The input pixels that output pixels `block` read.
    fn source(&self, block: std::ops::Range<usize>) -> std::ops::Range<usize> {
        if block.is_empty() {
            return 0..0;
        }
        (block.start as isize + self.offset) as usize..(block.end as isize + self.offset) as usize
    }

    /// Calls `f(q)` for the output pixels of the valid rows whose column reads past the row's
    /// ends.
    fn for_each_wrapped(&self, mut f: impl FnMut(usize)) {
        for o in self.valid_rows.clone() {
            let row = o * self.width;
            (row..row + self.valid_cols.start).chain(row + self.valid_cols.end..row + self.width).for_each(&mut f);
        }
    }
}

/// Calls `f(channel, row, i, j)` for each im2col row: input channel and kernel offset `(i, j)`.
fn for_each_patch_row(g: &ConvGeometry, mut f: impl FnMut(usize, usize, usize, usize)) {
    let [kh, kw] = g.kernel;
    for channel in 0..g.c_in {
        for i in 0..kh {
            for j in 0..kw {
                f(channel, (channel * kh + i) * kw + j, i, j);
            }
        }
    }
}

/// For kernel offset `(i, j)`, calls `f(o, input_row, lo, hi)` for each output row `o`:
/// `input_row` is the input row it reads (None in the padding) and output columns `lo..hi`
/// read input columns `lo + j - pad_w ..`, the other columns falling in the padding.
fn for_each_output_row(g: &ConvGeometry, i: usize, j: usize, mut f: impl FnMut(usize, Option<usize>, usize, usize)) {
    let [out_h, out_w] = g.output();
    let [pad_h, pad_w] = g.padding;
    // Output column o reads input column o + j - pad_w, inside [0, width) for o in lo..hi.
    let lo = pad_w.saturating_sub(j).min(out_w);
    let hi = (g.input[1] + pad_w).saturating_sub(j).min(out_w).max(lo);
    for o in 0..out_h {
        let padded_row = o + i;
        let input_row = (padded_row >= pad_h && padded_row < pad_h + g.input[0]).then(|| padded_row - pad_h);
        f(o, input_row, lo, hi);
    }
}

/// How a gemm operand is stored.
#[derive(Debug, Clone, Copy)]
enum Stored {
    /// Row-major as the product reads it.
    AsIs,
    /// Row-major transpose: a `[rows, cols]` operand stored as `[cols, rows]`.
    Transposed,
}

/// Whether the gemm adds to the destination or overwrites it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accumulate {
    Yes,
    No,
}

/// `dst[m, n] (+)= a[m, k] · b[k, n]`, row-major destination, single-threaded (the callers
/// parallelise over samples).
fn matmul(dst: &mut [f32], [m, n, k]: [usize; 3], a: (&[f32], Stored), b: (&[f32], Stored), acc: Accumulate) {
    assert_eq!(dst.len(), m * n, "gemm destination length");
    assert_eq!(a.0.len(), m * k, "gemm lhs length");
    assert_eq!(b.0.len(), k * n, "gemm rhs length");
    let strides = |stored: Stored, cols: usize, rows: usize| -> (isize, isize) {
        // (column stride, row stride) of a [rows, cols] operand.
        match stored {
            Stored::AsIs => (1, cols as isize),
            Stored::Transposed => (rows as isize, 1),
        }
    };
    let (a_cs, a_rs) = strides(a.1, k, m);
    let (b_cs, b_rs) = strides(b.1, n, k);
    // SAFETY: the asserts above bound every index the strides reach: dst is [m, n] row-major,
    // a covers m * k floats and b k * n floats in either storage order.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            acc == Accumulate::Yes,
            a.0.as_ptr(),
            a_cs,
            a_rs,
            b.0.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}
