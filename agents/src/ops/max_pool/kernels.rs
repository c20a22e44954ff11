//! The f32 max-pooling kernels on NCHW buffers, parallel over channel planes (each plane is
//! written by one task, so results do not depend on the number of threads).

use crate::ops::{par_chunk_pairs_zeroed, par_chunks_zeroed};

/// Geometry of a max pooling with symmetric padding (padded cells never win), no dilation,
/// output size rounded down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Channel planes: batch times channels.
    pub planes: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Step between windows, rows and columns.
    pub stride: [usize; 2],
    /// Padding rows (top and bottom) and columns (left and right).
    pub padding: [usize; 2],
}

impl PoolGeometry {
    /// Output height and width: `(input + 2 * padding - kernel) / stride + 1`.
    pub fn output(&self) -> [usize; 2] {
        std::array::from_fn(|d| (self.input[d] + 2 * self.padding[d] - self.kernel[d]) / self.stride[d] + 1)
    }

    /// Whether every window overlaps the input: padding below the kernel, kernel within the
    /// padded input, non-zero strides.
    pub fn is_valid(&self) -> bool {
        (0..2).all(|d| {
            self.stride[d] >= 1
                && self.padding[d] < self.kernel[d]
                && self.input[d] + 2 * self.padding[d] >= self.kernel[d]
        })
    }

    fn input_len(&self) -> usize {
        self.input[0] * self.input[1]
    }

    fn output_len(&self) -> usize {
        let [h, w] = self.output();
        h * w
    }

    /// The input range `[start, end)` of each window along axis `d`.
    fn windows(&self, d: usize) -> Vec<(usize, usize)> {
        (0..self.output()[d])
            .map(|o| {
                let start = o * self.stride[d];
                let end = start + self.kernel[d];
                (start.saturating_sub(self.padding[d]), (end - self.padding[d]).min(self.input[d]))
            })
            .collect()
    }
}

/// The maximum of each window and the position of its first maximum in the plane
/// (`row * width + column`, cells scanned row by row; a NaN wins, as in PyTorch). `x` is
/// `[planes, h, w]`.
pub fn forward(g: &PoolGeometry, x: &[f32]) -> (Vec<f32>, Vec<i32>) {
    assert!(g.is_valid(), "max pool {g:?}");
    assert_eq!(x.len(), g.planes * g.input_len(), "max pool input length");
    assert!(g.input_len() <= i32::MAX as usize, "max pool plane too large for i32 indices");
    let plan = PlanePool::new(g);
    let out_len = g.output_len();
    let scratch = || Scratch {
        phases: vec![0.0; plan.stride * plan.phase_len],
        row_max: vec![0.0; g.input[0] * plan.out_w],
        row_arg: vec![0; g.input[0] * plan.out_w],
    };
    let len = g.planes * out_len;
    par_chunk_pairs_zeroed((len, len), (out_len, out_len), scratch, |scratch, plane, out, indices| {
        plan.pool(&x[plane * g.input_len()..][..g.input_len()], scratch, out, indices)
    })
}

/// What pooling one plane needs, computed once per call.
struct PlanePool {
    width: usize,
    out_w: usize,
    stride: usize,
    pad: usize,
    /// The input rows `[start, end)` of each output row's windows.
    rows: Vec<(usize, usize)>,
    /// The input columns `[start, end)` of each output column's windows.
    cols: Vec<(usize, usize)>,
    /// For each kernel column j, the output columns whose window's j-th column lies inside the
    /// input.
    spans: Vec<(usize, usize)>,
    /// Input columns per stride phase of a row.
    phase_len: usize,
}

/// One task's buffers: a row split into its phases, and each input row's maxima over the
/// windows' columns with their columns.
struct Scratch {
    phases: Vec<f32>,
    row_max: Vec<f32>,
    row_arg: Vec<i32>,
}

impl PlanePool {
    fn new(g: &PoolGeometry) -> Self {
        let ([_, out_w], [_, kw], [_, stride], [_, pad], width) =
            (g.output(), g.kernel, g.stride, g.padding, g.input[1]);
        let spans = (0..kw)
            .map(|j| {
                let inside = |o: &usize| o * stride + j >= pad && o * stride + j < width + pad;
                let lo = (0..out_w).find(inside).unwrap_or(out_w);
                (lo, (lo..out_w).take_while(inside).last().map_or(lo, |o| o + 1))
            })
            .collect();
        let (rows, cols) = (g.windows(0), g.windows(1));
        PlanePool { width, out_w, stride, pad, rows, cols, spans, phase_len: width.div_ceil(stride) }
    }

    /// Pools plane `x` into `max` and `arg`, separably: first each input row's maximum over
    /// each window's columns (and its column), then each window's maximum over its rows. Both
    /// passes compare contiguous runs with the same rule, so the first maximum in row-by-row
    /// order (or the last NaN) wins, as scanning the window cell by cell would. Each input row
    /// is split into its stride phases once, rather than once per window row reading it.
    fn pool(&self, x: &[f32], scratch: &mut Scratch, max: &mut [f32], arg: &mut [i32]) {
        let PlanePool { width, out_w, stride, pad, phase_len, .. } = *self;
        let Scratch { phases, row_max, row_arg } = scratch;
        for ((row, max), arg) in
            x.chunks_exact(width).zip(row_max.chunks_exact_mut(out_w)).zip(row_arg.chunks_exact_mut(out_w))
        {
            // Split the row into its `stride` phases (columns q, q + stride, ...): window o's
            // cell j, input column o * stride + j - pad, is then phase (j - pad) mod stride at
            // position o + (j - pad) div stride, and every step below reads a contiguous run.
            if stride == 2 {
                let (even, odd) = phases.split_at_mut(phase_len);
                for ((e, o), pair) in even.iter_mut().zip(odd.iter_mut()).zip(row.chunks_exact(2)) {
                    (*e, *o) = (pair[0], pair[1]);
                }
                if width % 2 == 1 {
                    even[phase_len - 1] = row[width - 1];
                }
            } else {
                for (q, phase) in phases.chunks_exact_mut(phase_len).enumerate() {
                    phase.iter_mut().zip(row.iter().skip(q).step_by(stride)).for_each(|(p, &v)| *p = v);
                }
            }
            for ((m, a), &(c0, _)) in max.iter_mut().zip(arg.iter_mut()).zip(&self.cols) {
                (*m, *a) = (f32::NEG_INFINITY, c0 as i32);
            }
            for (j, &(lo, hi)) in self.spans.iter().enumerate() {
                let offset = j as isize - pad as isize;
                let (q, shift) = (offset.rem_euclid(stride as isize), offset.div_euclid(stride as isize));
                let cells = &phases[q as usize * phase_len..][(lo as isize + shift) as usize..][..hi - lo];
                let columns = (lo..hi).map(|o| (o * stride) as i32 + offset as i32);
                select_max(&mut max[lo..hi], &mut arg[lo..hi], cells, columns);
            }
        }
        for ((max, arg), &(r0, r1)) in max.chunks_exact_mut(out_w).zip(arg.chunks_exact_mut(out_w)).zip(&self.rows) {
            for ((m, a), &(c0, _)) in max.iter_mut().zip(arg.iter_mut()).zip(&self.cols) {
                (*m, *a) = (f32::NEG_INFINITY, (r0 * width + c0) as i32);
            }
            for r in r0..r1 {
                let cells = &row_max[r * out_w..][..out_w];
                let positions = row_arg[r * out_w..][..out_w].iter().map(|&c| (r * width) as i32 + c);
                select_max(max, arg, cells, positions);
            }
        }
    }
}

/// For each window: where `value` beats the running maximum `max` (greater, or a NaN), takes it
/// and its `position` into `arg`. Bit masks rather than branches or conditional stores, so that
/// the loop vectorises: which cell wins is data-dependent.
fn select_max(max: &mut [f32], arg: &mut [i32], values: &[f32], positions: impl Iterator<Item = i32>) {
    for (((m, a), &v), position) in max.iter_mut().zip(arg.iter_mut()).zip(values).zip(positions) {
        let wins = -(((v > *m) | v.is_nan()) as i32);
        *m = f32::from_bits((v.to_bits() & wins as u32) | (m.to_bits() & !wins as u32));
        *a = (position & wins) | (*a & !wins);
    }
}

/// The input gradient: each output gradient added at its window's argmax.
pub fn backward(g: &PoolGeometry, grad: &[f32], indices: &[i32]) -> Vec<f32> {
    assert_eq!(grad.len(), g.planes * g.output_len(), "max pool output gradient length");
    assert_eq!(indices.len(), grad.len(), "max pool indices length");
    let out_len = g.output_len();
    par_chunks_zeroed(
        g.planes * g.input_len(),
        g.input_len(),
        || (),
        |_, plane, dx| {
            let (grad, indices) = (&grad[plane * out_len..][..out_len], &indices[plane * out_len..][..out_len]);
            for (&gr, &i) in grad.iter().zip(indices) {
                dx[i as usize] += gr;
            }
        },
    )
}
