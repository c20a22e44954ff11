//! The kernels of the fused learner, on row-major `[rows, lanes]` buffers: each row holds one
//! value per sample of the batch, so every loop runs along samples in contiguous memory.
//!
//! These are `#[inline(always)]` bodies, generic over whether to fuse multiply-adds; they are
//! compiled for each instruction set where [`super::net`] instantiates them (see
//! [`super::isa`]).

use super::isa::{WIDTH_AVX2, WIDTH_AVX512, WIDTH_PORTABLE, madd};
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
pub(crate) fn apply<const FMA: bool, const WIDTH: usize>(
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
            // of the input and four weights per term (but on AVX2, where the sixteen registers
            // taken by these accumulators would spill the hottest of them).
            while WIDTH != WIDTH_AVX2 && start + 2 * LANES <= lanes {
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
            while start + LANES <= lanes {
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

/// [`fold`] of sixteen partial sums at once: lane `i` of the result is `fold(sums[i])`, the same
/// bits. On AVX-512 and AVX2 the halving additions of sixteen folds run as four rounds of
/// shuffles that pair the sums' halves, quarters, pairs and lanes across registers (about 3
/// instructions a sum instead of 8); `WIDTH` is the register width of the caller's
/// instruction set (see [`super::isa`]).
#[inline(always)]
fn fold16<const WIDTH: usize>(sums: &[V; 16]) -> [f32; 16] {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: a `WIDTH` of AVX-512 or AVX2 is only given by the `multiversion!` body
        // compiled for (and run on) that instruction set.
        if WIDTH == WIDTH_AVX512 {
            return unsafe { fold16_avx512(sums) };
        }
        if WIDTH == WIDTH_AVX2 {
            return unsafe { fold16_avx2(sums) };
        }
    }
    std::array::from_fn(|i| fold(sums[i]))
}

/// [`fold16`] on AVX-512: each round adds the two halves of every sum, two sums a register.
///
/// # Safety
/// The CPU must have AVX-512 F; to be fast the caller is compiled with it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn fold16_avx512(sums: &[V; 16]) -> [f32; 16] {
    use std::arch::x86_64::*;
    // SAFETY: as the function's; the loads read 16 lanes of a `V`, the store 16 of `out`.
    unsafe {
        let load = |i: usize| _mm512_loadu_ps(sums[i].0.as_ptr());
        // Lanes j and j + 8 of sums a and b: [a.q0 a.q1 b.q0 b.q1] + [a.q2 a.q3 b.q2 b.q3].
        // (Loops rather than `array::from_fn`, whose closures would be compiled apart, without
        // the caller's instruction set.)
        let mut halves = [_mm512_setzero_ps(); 8];
        for (i, half) in halves.iter_mut().enumerate() {
            let (a, b) = (load(2 * i), load(2 * i + 1));
            *half = _mm512_add_ps(_mm512_shuffle_f32x4::<0x44>(a, b), _mm512_shuffle_f32x4::<0xEE>(a, b));
        }
        // Lanes j and j + 4, four sums a register: [a.q0 b.q0 c.q0 d.q0] + [a.q1 b.q1 c.q1 d.q1].
        let mut quarters = [_mm512_setzero_ps(); 4];
        for (i, quarter) in quarters.iter_mut().enumerate() {
            let (a, b) = (halves[2 * i], halves[2 * i + 1]);
            *quarter = _mm512_add_ps(_mm512_shuffle_f32x4::<0x88>(a, b), _mm512_shuffle_f32x4::<0xDD>(a, b));
        }
        // Lanes j and j + 2 within each 128-bit quarter: [x0 x1 y0 y1] + [x2 x3 y2 y3].
        let mut pairs = [_mm512_setzero_ps(); 2];
        for (i, pair) in pairs.iter_mut().enumerate() {
            let (a, b) = (quarters[2 * i], quarters[2 * i + 1]);
            *pair = _mm512_add_ps(_mm512_shuffle_ps::<0x44>(a, b), _mm512_shuffle_ps::<0xEE>(a, b));
        }
        // Lanes j and j + 1: [x0 x2 y0 y2] + [x1 x3 y1 y3]; lane 4k + m now holds sum 4m + k.
        let (a, b) = (pairs[0], pairs[1]);
        let folded = _mm512_add_ps(_mm512_shuffle_ps::<0x88>(a, b), _mm512_shuffle_ps::<0xDD>(a, b));
        let order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        let mut out = [0.0f32; 16];
        _mm512_storeu_ps(out.as_mut_ptr(), _mm512_permutexvar_ps(order, folded));
        out
    }
}

/// [`fold16`] on AVX2, a sum's sixteen lanes in two registers.
///
/// # Safety
/// The CPU must have AVX2; to be fast the caller is compiled with it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn fold16_avx2(sums: &[V; 16]) -> [f32; 16] {
    use std::arch::x86_64::*;
    // SAFETY: as the function's; the loads read within a `V`, the stores within `out`.
    unsafe {
        // Lanes j and j + 8: the sum's two registers.
        let mut halves = [_mm256_setzero_ps(); 16];
        for (half, sum) in halves.iter_mut().zip(sums) {
            let lanes = sum.0.as_ptr();
            *half = _mm256_add_ps(_mm256_loadu_ps(lanes), _mm256_loadu_ps(lanes.add(8)));
        }
        // Lanes j and j + 4, two sums a register: [a.lo b.lo] + [a.hi b.hi].
        let mut quarters = [_mm256_setzero_ps(); 8];
        for (i, quarter) in quarters.iter_mut().enumerate() {
            let (a, b) = (halves[2 * i], halves[2 * i + 1]);
            *quarter = _mm256_add_ps(_mm256_permute2f128_ps::<0x20>(a, b), _mm256_permute2f128_ps::<0x31>(a, b));
        }
        // Lanes j and j + 2 within each 128-bit half: [x0 x1 y0 y1] + [x2 x3 y2 y3].
        let mut pairs = [_mm256_setzero_ps(); 4];
        for (i, pair) in pairs.iter_mut().enumerate() {
            let (a, b) = (quarters[2 * i], quarters[2 * i + 1]);
            *pair = _mm256_add_ps(_mm256_shuffle_ps::<0x44>(a, b), _mm256_shuffle_ps::<0xEE>(a, b));
        }
        // Lanes j and j + 1: [x0 x2 y0 y2] + [x1 x3 y1 y3]; lanes [0 2 4 6 | 1 3 5 7] of eight sums.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        let mut out = [0.0f32; 16];
        for (i, half) in out.chunks_exact_mut(8).enumerate() {
            let (a, b) = (pairs[2 * i], pairs[2 * i + 1]);
            let folded = _mm256_add_ps(_mm256_shuffle_ps::<0x88>(a, b), _mm256_shuffle_ps::<0xDD>(a, b));
            _mm256_storeu_ps(half.as_mut_ptr(), _mm256_permutevar8x32_ps(folded, order));
        }
        out
    }
}

/// Weights' lane-wise partial sums waiting to be folded sixteen at a time by [`fold16`] and
/// added to the weight gradients.
struct PendingFolds {
    sums: [V; 16],
    weights: [u32; 16],
    len: usize,
}

impl PendingFolds {
    #[inline(always)]
    fn new() -> PendingFolds {
        PendingFolds { sums: [V::splat(0.0); 16], weights: [0; 16], len: 0 }
    }

    /// Queues `d_weights[weight] += fold(sum)`.
    #[inline(always)]
    fn push<const WIDTH: usize>(&mut self, weight: u32, sum: V, d_weights: &mut [f32]) {
        if WIDTH == WIDTH_PORTABLE {
            // No shuffles to share: fold at once.
            d_weights[weight as usize] += fold(sum);
            return;
        }
        self.sums[self.len] = sum;
        self.weights[self.len] = weight;
        self.len += 1;
        if self.len == 16 {
            self.flush::<WIDTH>(d_weights);
        }
    }

    /// Adds the queued folds to `d_weights`, sixteen consecutive weights as one slice.
    #[inline(always)]
    fn flush<const WIDTH: usize>(&mut self, d_weights: &mut [f32]) {
        if self.len == 0 {
            return;
        }
        let folded = fold16::<WIDTH>(&self.sums);
        let first = self.weights[0];
        if self.len == 16 && self.weights.iter().zip(first..).all(|(&w, want)| w == want) {
            let out = &mut d_weights[first as usize..][..16];
            out.iter_mut().zip(folded).for_each(|(d, f)| *d += f);
        } else {
            for (&w, f) in self.weights[..self.len].iter().zip(folded) {
                d_weights[w as usize] += f;
            }
        }
        self.len = 0;
    }
}

/// The weight gradients of a layer applied by `plan` to `input`, given its output gradient
/// `grad`: `d_weights[t.weight] += grad[r] . input[t.row]` ([`add_bias_grads`] adds the bias's).
/// Rows that share their weights ([`Plan::shared_weights`], a convolution's pixels) add into
/// the same sixteen lane-wise partial sums, folded once per weight (sixteen weights at a time,
/// [`fold16`]); four terms of a row at a
/// time share each load of `grad[r]`.
#[inline(always)]
pub(crate) fn weight_grads<const FMA: bool, const WIDTH: usize>(
    plan: &Plan,
    grad: &[f32],
    input: &[f32],
    d_weights: &mut [f32],
    lanes: usize,
) {
    // The learner's blocks are 64 samples: with the count known the inner loops unroll whole.
    if lanes == 64 {
        weight_grads_of::<FMA, WIDTH, 64>(plan, grad, input, d_weights, lanes)
    } else {
        weight_grads_of::<FMA, WIDTH, 0>(plan, grad, input, d_weights, lanes)
    }
}

/// [`weight_grads`] for `KNOWN_LANES` samples (0: `lanes`, whatever it is).
#[inline(always)]
fn weight_grads_of<const FMA: bool, const WIDTH: usize, const KNOWN_LANES: usize>(
    plan: &Plan,
    grad: &[f32],
    input: &[f32],
    d_weights: &mut [f32],
    lanes: usize,
) {
    let lanes = if KNOWN_LANES == 0 { lanes } else { KNOWN_LANES };
    let full = lanes / LANES * LANES;
    let grad_row = |r: usize| &grad[r * lanes..][..lanes];
    let input_row = |t: &Term| &input[t.row as usize * lanes..][..lanes];
    let mut pending = PendingFolds::new();
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
                pending.push::<WIDTH>(t.weight, add(a, tail), d_weights);
            }
            first += 4;
        }
        for k in first..terms {
            let mut acc = V::splat(0.0);
            for r in run.clone() {
                acc = add(acc, partial_dot::<FMA>(grad_row(r), input_row(&plan.row(r)[k])));
            }
            pending.push::<WIDTH>(plan.row(run.start)[k].weight, acc, d_weights);
        }
    }
    pending.flush::<WIDTH>(d_weights);
}

/// `d_bias[plan.bias[r]] += sum grad[r]`, the rows of a [`Plan::shared_weights`] run in one sum.
#[inline(always)]
pub(crate) fn add_bias_grads(plan: &Plan, grad: &[f32], d_bias: &mut [f32], lanes: usize) {
    for run in &plan.shared_weights {
        // A loop rather than `Iterator::fold`, which would be compiled apart, without the
        // caller's instruction set.
        let mut acc = V::splat(0.0);
        for r in run.clone() {
            acc = add(acc, partial_sum(&grad[r * lanes..][..lanes]));
        }
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
    use super::super::isa::{Isa, multiversion};
    use super::*;

    multiversion!(FMA, WIDTH =>
    /// [`fold16`] compiled for an instruction set.
    fn fold16_on(sums: &[V; 16]) -> [f32; 16] {
        fold16::<WIDTH>(sums)
    });

    multiversion!(FMA, WIDTH =>
    /// [`weight_grads`] compiled for an instruction set.
    fn weight_grads_on(plan: &Plan, grad: &[f32], input: &[f32], d_weights: &mut [f32], lanes: usize) {
        weight_grads::<FMA, WIDTH>(plan, grad, input, d_weights, lanes)
    });

    /// Values of mixed signs and magnitudes, so that the order of additions shows in the bits.
    fn values(n: usize, salt: u64) -> Vec<f32> {
        (0..n as u64)
            .map(|i| {
                let h =
                    (i ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                let unit = (h >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                unit * [1.0, 1e-3, 37.0, 1e-6][(h & 3) as usize]
            })
            .collect()
    }

    fn supported() -> Vec<Isa> {
        [Isa::Avx512, Isa::Avx2, Isa::Portable].into_iter().filter(|isa| isa.is_supported()).collect()
    }

    #[test]
    fn fold16_is_sixteen_folds_to_the_bit_on_every_instruction_set() {
        let flat = values(256, 7);
        let sums: [V; 16] = std::array::from_fn(|i| V::load(&flat[16 * i..]));
        let want = sums.map(fold).map(f32::to_bits);
        for isa in supported() {
            assert_eq!(fold16_on(isa, &sums).map(f32::to_bits), want, "{isa}");
        }
    }

    #[test]
    fn weight_grads_fold_sixteen_at_a_time_to_the_bits_of_one_at_a_time() {
        // A convolution (consecutive weights: whole slices) and a dense layer (weights a row
        // apart: one by one), on 64 samples (the learner's blocks) and 70 (a tail past the last
        // full vector). The reference folds each weight alone (the portable path),
        // with fused multiply-adds as the AVX2 and AVX-512 paths.
        for (plan, lanes) in
            [Plan::conv(5, [4, 4], 7, 2), Plan::dense(19, 9)].into_iter().flat_map(|p| [(p.clone(), 64), (p, 70)])
        {
            let grad = values(plan.rows() * lanes, 1);
            let input = values(plan.inputs * lanes, 2);
            let weights = plan.rows().max(1) * plan.row(0).len();
            let mut want = values(weights, 3);
            let start = want.clone();
            weight_grads::<true, WIDTH_PORTABLE>(&plan, &grad, &input, &mut want, lanes);
            for isa in supported().into_iter().filter(|&isa| isa != Isa::Portable) {
                let mut got = start.clone();
                weight_grads_on(isa, &plan, &grad, &input, &mut got, lanes);
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{isa}"
                );
            }
        }
    }

    #[test]
    fn apply_and_weight_grads_of_a_dense_layer_by_hand() {
        // 2 inputs -> 3 outputs, burn layout w[i * 3 + o]; 70 samples (a full chunk and a tail).
        let lanes = 70;
        let plan = Plan::dense(2, 3);
        let w = [1.0, 2.0, 3.0, -1.0, 0.5, 0.0];
        let bias = [0.1, 0.2, 0.3];
        let input: Vec<f32> = (0..2 * lanes).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut out = vec![0.0; 3 * lanes];
        apply::<true, WIDTH_PORTABLE>(&plan, &w, Some(&bias), &input, &mut out, lanes);
        for s in 0..lanes {
            let (x0, x1) = (input[s], input[lanes + s]);
            for o in 0..3 {
                assert_eq!(out[o * lanes + s], bias[o] + w[o] * x0 + w[3 + o] * x1, "sample {s} output {o}");
            }
        }
        let grad: Vec<f32> = (0..3 * lanes).map(|i| ((i * 5) % 11) as f32 * 0.25).collect();
        let (mut dw, mut db) = (vec![0.0; 6], vec![0.0; 3]);
        weight_grads::<false, WIDTH_PORTABLE>(&plan, &grad, &input, &mut dw, lanes);
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
        apply::<false, WIDTH_PORTABLE>(&plan.transpose(), &w, None, &grad, &mut d_in, lanes);
        for s in 0..lanes {
            let want: f32 = (0..3).map(|o| w[o] * grad[o * lanes + s]).sum();
            assert!((d_in[s] - want).abs() < 1e-5);
        }
    }
}
