//! The f32 max-pooling kernels on NCHW buffers, parallel over channel planes (each plane is
//! written by one task, so results do not depend on the number of threads).

use rayon::prelude::*;

use crate::ops::par_chunks_zeroed;

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
    let (rows, cols) = (g.windows(0), g.windows(1));
    let ([_, out_w], [_, kw], [_, stride], [_, pad], width) = (g.output(), g.kernel, g.stride, g.padding, g.input[1]);
    // Output columns whose window's j-th column lies inside the input.
    let spans: Vec<(usize, usize)> = (0..kw)
        .map(|j| {
            let inside = |o: &usize| o * stride + j >= pad && o * stride + j < width + pad;
            let lo = (0..out_w).find(inside).unwrap_or(out_w);
            (lo, (lo..out_w).take_while(inside).last().map_or(lo, |o| o + 1))
        })
        .collect();
    let phase_len = width.div_ceil(stride);
    let mut out = vec![0.0f32; g.planes * g.output_len()];
    let mut indices = vec![0i32; g.planes * g.output_len()];
    out.par_chunks_mut(g.output_len())
        .zip(indices.par_chunks_mut(g.output_len()))
        .zip(x.par_chunks(g.input_len()))
        .for_each_init(
            || vec![0.0f32; stride * phase_len],
            |phases, ((out, indices), x)| {
                // One output row at a time, its windows advanced together one kernel cell at a
                // time: for kernel column j the cells of consecutive windows are `stride` apart,
                // so each input row is first split into its `stride` phases (columns q, q +
                // stride, ...), after which every step reads a contiguous run and vectorises.
                for ((max, arg), &(r0, r1)) in
                    out.chunks_exact_mut(out_w).zip(indices.chunks_exact_mut(out_w)).zip(&rows)
                {
                    for ((m, a), &(c0, _)) in max.iter_mut().zip(arg.iter_mut()).zip(&cols) {
                        *m = f32::NEG_INFINITY;
                        *a = (r0 * width + c0) as i32;
                    }
                    for r in r0..r1 {
                        let row = &x[r * width..][..width];
                        for (q, phase) in phases.chunks_exact_mut(phase_len).enumerate() {
                            phase.iter_mut().zip(row.iter().skip(q).step_by(stride)).for_each(|(p, &v)| *p = v);
                        }
                        for (j, &(lo, hi)) in spans.iter().enumerate() {
                            // Window o's cell j is input column o * stride + j - pad, that is
                            // phase (j - pad) mod stride at position o + (j - pad) div stride.
                            let offset = j as isize - pad as isize;
                            let (q, shift) = (offset.rem_euclid(stride as isize), offset.div_euclid(stride as isize));
                            let start = q as usize * phase_len;
                            let cells =
                                &phases[start..][(lo as isize + shift) as usize..(hi as isize + shift) as usize];
                            let base = (r * width) as isize + offset;
                            let windows = max[lo..hi].iter_mut().zip(&mut arg[lo..hi]).zip(cells).zip(lo..hi);
                            for (((m, a), &v), o) in windows {
                                // Bit masks rather than branches or conditional stores, so that
                                // the loop vectorises: which cell wins is data-dependent.
                                let wins = -(((v > *m) | v.is_nan()) as i32);
                                let index = (base + (o * stride) as isize) as i32;
                                *m = f32::from_bits((v.to_bits() & wins as u32) | (m.to_bits() & !wins as u32));
                                *a = (index & wins) | (*a & !wins);
                            }
                        }
                    }
                }
            },
        );
    (out, indices)
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
