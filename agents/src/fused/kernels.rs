//! The kernels of the fused learner, on row-major `[rows, lanes]` buffers: each row holds one
//! value per sample of the batch, so every loop runs along samples in contiguous memory.
//!
//! These are `#[inline(always)]` bodies, generic over whether to fuse multiply-adds; they are
//! compiled for each instruction set where [`super::net`] instantiates them (see
//! [`super::isa`]).

use super::isa::madd;
use super::plan::{Plan, Term};

/// Lanes of one [`V`]: an AVX-512 register, two AVX2 registers.
const LANES: usize = 16;

/// Sixteen lanes held by value, so that the compiler keeps them in vector registers.
#[derive(Clone, Copy)]
struct V([f32; LANES]);

impl V {
    #[inline(always)]
    fn splat(v: f32) -> V {
        V([v; LANES])
    }

    #[inline(always)]
    fn load(x: &[f32]) -> V {
        V(x[..LANES].try_into().expect("sixteen lanes"))
    }

    /// `self + w * x`.
    #[inline(always)]
    fn madd<const FMA: bool>(self, w: V, x: V) -> V {
        let mut out = self.0;
        for ((o, w), x) in out.iter_mut().zip(w.0).zip(x.0) {
            *o = madd::<FMA>(w, x, *o);
        }
        V(out)
    }
}

/// `out[r] = bias[plan.bias[r]] + sum_t weights[t.weight] * input[t.row]` for every output row
/// (`bias = None`: no bias). `out` is overwritten.
#[inline(always)]
pub(crate) fn apply<const FMA: bool>(
    plan: &Plan,
    weights: &[f32],
    bias: Option<&[f32]>,
    input: &[f32],
    out: &mut [f32],
    lanes: usize,
) {
    debug_assert_eq!(input.len(), plan.inputs * lanes);
    debug_assert_eq!(out.len(), plan.rows() * lanes);
    for (r, out_row) in out.chunks_exact_mut(lanes).enumerate() {
        let b = bias.map_or(0.0, |bias| bias[plan.bias[r] as usize]);
        let terms = plan.row(r);
        let at = |t: &Term, start: usize| V::load(&input[t.row as usize * lanes + start..]);
        let mut start = 0;
        // Four vectors at a time: four independent chains of multiply-adds.
        while start + 4 * LANES <= lanes {
            let mut acc = [V::splat(b); 4];
            for t in terms {
                let w = V::splat(weights[t.weight as usize]);
                for (k, a) in acc.iter_mut().enumerate() {
                    *a = a.madd::<FMA>(w, at(t, start + k * LANES));
                }
            }
            for (k, a) in acc.iter().enumerate() {
                out_row[start + k * LANES..][..LANES].copy_from_slice(&a.0);
            }
            start += 4 * LANES;
        }
        while start + LANES <= lanes {
            let mut acc = V::splat(b);
            for t in terms {
                acc = acc.madd::<FMA>(V::splat(weights[t.weight as usize]), at(t, start));
            }
            out_row[start..][..LANES].copy_from_slice(&acc.0);
            start += LANES;
        }
        for lane in start..lanes {
            let mut acc = b;
            for t in terms {
                acc = madd::<FMA>(weights[t.weight as usize], input[t.row as usize * lanes + lane], acc);
            }
            out_row[lane] = acc;
        }
    }
}

/// The lane-wise partial sums of `a[j] * b[j]`: lane `j % 16` of the result holds the sum over
/// `j`, in order.
#[inline(always)]
fn partial_dot<const FMA: bool>(a: &[f32], b: &[f32]) -> V {
    let mut acc = V::splat(0.0);
    let full = a.len() / LANES * LANES;
    for c in (0..full).step_by(LANES) {
        acc = acc.madd::<FMA>(V::load(&a[c..]), V::load(&b[c..]));
    }
    for j in full..a.len() {
        acc.0[j - full] = madd::<FMA>(a[j], b[j], acc.0[j - full]);
    }
    acc
}

/// `sum_j a[j] * b[j]` with [`LANES`] partial sums added in a fixed order.
#[inline(always)]
pub(crate) fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    fold(partial_dot::<FMA>(a, b))
}

/// `sum_j a[j]` with [`LANES`] partial sums added in a fixed order.
#[inline(always)]
pub(crate) fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = a.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            acc[j] += c[j];
        }
    }
    for (j, v) in chunks.remainder().iter().enumerate() {
        acc[j] += v;
    }
    fold(V(acc))
}

/// The partial sums added pairwise.
#[inline(always)]
fn fold(V(mut acc): V) -> f32 {
    let mut n = LANES;
    while n > 1 {
        n /= 2;
        for j in 0..n {
            acc[j] += acc[j + n];
        }
    }
    acc[0]
}

/// The parameter gradients of a layer applied by `plan` to `input`, given its output gradient
/// `grad`: `d_weights[t.weight] += grad[r] . input[t.row]`, `d_bias[plan.bias[r]] += sum grad[r]`.
/// Four terms of a row at a time share each load of `grad[r]`; every dot product keeps the
/// lane order of [`dot`].
#[inline(always)]
pub(crate) fn weight_grads<const FMA: bool>(
    plan: &Plan,
    grad: &[f32],
    input: &[f32],
    d_weights: &mut [f32],
    d_bias: Option<&mut [f32]>,
    lanes: usize,
) {
    let full = lanes / LANES * LANES;
    for (r, g) in grad.chunks_exact(lanes).enumerate() {
        let row = |t: &Term| &input[t.row as usize * lanes..][..lanes];
        let mut quads = plan.row(r).chunks_exact(4);
        for quad in &mut quads {
            let x = [row(&quad[0]), row(&quad[1]), row(&quad[2]), row(&quad[3])];
            // Four named accumulators (an array of them would live on the stack).
            let (mut a0, mut a1, mut a2, mut a3) = (V::splat(0.0), V::splat(0.0), V::splat(0.0), V::splat(0.0));
            for c in (0..full).step_by(LANES) {
                let gv = V::load(&g[c..]);
                a0 = a0.madd::<FMA>(gv, V::load(&x[0][c..]));
                a1 = a1.madd::<FMA>(gv, V::load(&x[1][c..]));
                a2 = a2.madd::<FMA>(gv, V::load(&x[2][c..]));
                a3 = a3.madd::<FMA>(gv, V::load(&x[3][c..]));
            }
            let mut acc = [a0, a1, a2, a3];
            for (t, (a, x)) in quad.iter().zip(acc.iter_mut().zip(&x)) {
                for j in full..lanes {
                    a.0[j - full] = madd::<FMA>(g[j], x[j], a.0[j - full]);
                }
                d_weights[t.weight as usize] += fold(*a);
            }
        }
        for t in quads.remainder() {
            d_weights[t.weight as usize] += dot::<FMA>(g, row(t));
        }
    }
    if let Some(d_bias) = d_bias {
        for (r, g) in grad.chunks_exact(lanes).enumerate() {
            d_bias[plan.bias[r] as usize] += sum(g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_and_weight_grads_of_a_dense_layer_by_hand() {
        // 2 inputs -> 3 outputs, burn layout w[i * 3 + o]; 70 samples (a full chunk and a tail).
        let lanes = 70;
        let plan = Plan::dense(2, 3);
        let w = [1.0, 2.0, 3.0, -1.0, 0.5, 0.0];
        let bias = [0.1, 0.2, 0.3];
        let input: Vec<f32> = (0..2 * lanes).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut out = vec![0.0; 3 * lanes];
        apply::<true>(&plan, &w, Some(&bias), &input, &mut out, lanes);
        for s in 0..lanes {
            let (x0, x1) = (input[s], input[lanes + s]);
            for o in 0..3 {
                assert_eq!(out[o * lanes + s], bias[o] + w[o] * x0 + w[3 + o] * x1, "sample {s} output {o}");
            }
        }
        let grad: Vec<f32> = (0..3 * lanes).map(|i| ((i * 5) % 11) as f32 * 0.25).collect();
        let (mut dw, mut db) = (vec![0.0; 6], vec![0.0; 3]);
        weight_grads::<false>(&plan, &grad, &input, &mut dw, Some(&mut db), lanes);
        for o in 0..3 {
            let g = &grad[o * lanes..][..lanes];
            assert_eq!(db[o], g.iter().sum::<f32>());
            for i in 0..2 {
                let want: f64 = g.iter().zip(&input[i * lanes..][..lanes]).map(|(a, b)| (a * b) as f64).sum();
                assert!((dw[i * 3 + o] as f64 - want).abs() < 1e-4, "dw[{i}, {o}]");
            }
        }
        // The transposed plan computes the input gradient W^T grad.
        let mut d_in = vec![0.0; 2 * lanes];
        apply::<false>(&plan.transpose(), &w, None, &grad, &mut d_in, lanes);
        for s in 0..lanes {
            let want: f32 = (0..3).map(|o| w[o] * grad[o * lanes + s]).sum();
            assert!((d_in[s] - want).abs() < 1e-5);
        }
    }
}
