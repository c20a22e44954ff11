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
/// (`bias = None`: no bias), each sum in the order of the row's terms. `out` is overwritten.
/// Rows that read the same inputs ([`Plan::shared_inputs`]) go four at a time, sharing each
/// load of an input row.
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
    let bias_of = |r: usize| bias.map_or(0.0, |bias| bias[plan.bias[r] as usize]);
    for group in &plan.shared_inputs {
        let mut quads = group.chunks_exact(4);
        for quad in &mut quads {
            let rows = [quad[0] as usize, quad[1] as usize, quad[2] as usize, quad[3] as usize];
            let terms = rows.map(|r| plan.row(r));
            let b = rows.map(bias_of);
            let mut start = 0;
            // Two vectors of four rows: eight independent chains of multiply-adds, two loads
            // of the input and four weights per term.
            while start + 2 * LANES <= lanes {
                let mut acc = b.map(|b| [V::splat(b); 2]);
                for k in 0..terms[0].len() {
                    let x = &input[terms[0][k].row as usize * lanes + start..];
                    let x = [V::load(x), V::load(&x[LANES..])];
                    for (acc, terms) in acc.iter_mut().zip(&terms) {
                        let w = V::splat(weights[terms[k].weight as usize]);
                        acc[0] = acc[0].madd::<FMA>(w, x[0]);
                        acc[1] = acc[1].madd::<FMA>(w, x[1]);
                    }
                }
                for (&r, acc) in rows.iter().zip(&acc) {
                    out[r * lanes + start..][..LANES].copy_from_slice(&acc[0].0);
                    out[r * lanes + start + LANES..][..LANES].copy_from_slice(&acc[1].0);
                }
                start += 2 * LANES;
            }
            if start + LANES <= lanes {
                let mut acc = b.map(V::splat);
                for k in 0..terms[0].len() {
                    let x = V::load(&input[terms[0][k].row as usize * lanes + start..]);
                    for (acc, terms) in acc.iter_mut().zip(&terms) {
                        *acc = acc.madd::<FMA>(V::splat(weights[terms[k].weight as usize]), x);
                    }
                }
                for (&r, acc) in rows.iter().zip(&acc) {
                    out[r * lanes + start..][..LANES].copy_from_slice(&acc.0);
                }
                start += LANES;
            }
            for (&r, terms) in rows.iter().zip(&terms) {
                apply_lanes::<FMA>(terms, weights, bias_of(r), input, &mut out[r * lanes..][..lanes], start, lanes);
            }
        }
        for &r in quads.remainder() {
            let r = r as usize;
            apply_lanes::<FMA>(plan.row(r), weights, bias_of(r), input, &mut out[r * lanes..][..lanes], 0, lanes);
        }
    }
}

/// One output row of [`apply`] from lane `start` on.
#[inline(always)]
fn apply_lanes<const FMA: bool>(
    terms: &[Term],
    weights: &[f32],
    b: f32,
    input: &[f32],
    out_row: &mut [f32],
    mut start: usize,
    lanes: usize,
) {
    let at = |t: &Term, start: usize| V::load(&input[t.row as usize * lanes + start..]);
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
    fold(partial_sum(a))
}

/// The lane-wise partial sums of `a[j]`: lane `j % 16` holds the sum over `j`, in order.
#[inline(always)]
fn partial_sum(a: &[f32]) -> V {
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
    V(acc)
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

/// The weight gradients of a layer applied by `plan` to `input`, given its output gradient
/// `grad`: `d_weights[t.weight] += grad[r] . input[t.row]` ([`add_bias_grads`] adds the bias's).
/// Rows that share their weights ([`Plan::shared_weights`], a convolution's pixels) add into
/// the same sixteen lane-wise partial sums, folded once per weight; four terms of a row at a
/// time share each load of `grad[r]`.
#[inline(always)]
pub(crate) fn weight_grads<const FMA: bool>(
    plan: &Plan,
    grad: &[f32],
    input: &[f32],
    d_weights: &mut [f32],
    lanes: usize,
) {
    let full = lanes / LANES * LANES;
    let grad_row = |r: usize| &grad[r * lanes..][..lanes];
    let input_row = |t: &Term| &input[t.row as usize * lanes..][..lanes];
    for run in &plan.shared_weights {
        let terms = plan.row(run.start).len();
        let mut first = 0;
        while first + 4 <= terms {
            // Four named accumulators (an array of them would live on the stack); the lanes
            // past the last full vector add into `tail`, apart, so that these stay in registers.
            let (mut a0, mut a1, mut a2, mut a3) = (V::splat(0.0), V::splat(0.0), V::splat(0.0), V::splat(0.0));
            let mut tail = [V::splat(0.0); 4];
            for r in run.clone() {
                let (g, quad) = (grad_row(r), &plan.row(r)[first..first + 4]);
                let x = [input_row(&quad[0]), input_row(&quad[1]), input_row(&quad[2]), input_row(&quad[3])];
                for c in (0..full).step_by(LANES) {
                    let gv = V::load(&g[c..]);
                    a0 = a0.madd::<FMA>(gv, V::load(&x[0][c..]));
                    a1 = a1.madd::<FMA>(gv, V::load(&x[1][c..]));
                    a2 = a2.madd::<FMA>(gv, V::load(&x[2][c..]));
                    a3 = a3.madd::<FMA>(gv, V::load(&x[3][c..]));
                }
                if full < lanes {
                    for (t, x) in tail.iter_mut().zip(&x) {
                        for j in full..lanes {
                            t.0[j - full] = madd::<FMA>(g[j], x[j], t.0[j - full]);
                        }
                    }
                }
            }
            let quad = &plan.row(run.start)[first..first + 4];
            for ((t, a), tail) in quad.iter().zip([a0, a1, a2, a3]).zip(tail) {
                d_weights[t.weight as usize] += fold(add(a, tail));
            }
            first += 4;
        }
        for k in first..terms {
            let mut acc = V::splat(0.0);
            for r in run.clone() {
                acc = add(acc, partial_dot::<FMA>(grad_row(r), input_row(&plan.row(r)[k])));
            }
            d_weights[plan.row(run.start)[k].weight as usize] += fold(acc);
        }
    }
}

/// `d_bias[plan.bias[r]] += sum grad[r]`, the rows of a [`Plan::shared_weights`] run in one sum.
#[inline(always)]
pub(crate) fn add_bias_grads(plan: &Plan, grad: &[f32], d_bias: &mut [f32], lanes: usize) {
    for run in &plan.shared_weights {
        let acc = run.clone().fold(V::splat(0.0), |acc, r| add(acc, partial_sum(&grad[r * lanes..][..lanes])));
        d_bias[plan.bias[run.start] as usize] += fold(acc);
    }
}

/// Lane-wise `a + b`.
#[inline(always)]
fn add(V(mut a): V, V(b): V) -> V {
    a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    V(a)
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
        weight_grads::<false>(&plan, &grad, &input, &mut dw, lanes);
        add_bias_grads(&plan, &grad, &mut db, lanes);
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
