//! Elementary functions on f32 written as straight-line arithmetic, so that loops over them
//! vectorize (the standard library's `exp`, `ln` and `tanh` are scalar calls). Polynomials of
//! Cephes (`expf`, `logf`, `tanhf`), accurate to a few units in the last place over the ranges
//! the networks use.

// Cephes' coefficients as published (more digits than an f32 holds).
#![allow(clippy::excessive_precision)]

use super::isa::{Isa, madd, multiversion};

/// `e^x`; saturates to `e^-87.3` below and to `e^88.7` above.
#[inline(always)]
pub(crate) fn exp<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(-87.33, 88.72);
    let n = madd::<FMA>(x, std::f32::consts::LOG2_E, 0.5).floor();
    let r = madd::<FMA>(n, -0.693_359_4, x);
    let r = madd::<FMA>(n, 2.121_944_4e-4, r);
    let mut p = 1.987_569_1e-4f32;
    for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5.000_000_1e-1] {
        p = madd::<FMA>(p, r, c);
    }
    let e = madd::<FMA>(p, r * r, r + 1.0);
    e * f32::from_bits(((whole_to_i32(n) + 127) as u32) << 23)
}

/// `x as i32` for a whole `x` with `|x| < 2^22`, by integer arithmetic on the bits of
/// `x + 1.5 * 2^23` (exact for such `x`): a float-to-integer cast saturates, which compilers
/// leave to scalar code inside vector loops.
#[inline(always)]
fn whole_to_i32(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    (x + MAGIC).to_bits().wrapping_sub(MAGIC.to_bits()) as i32
}

/// `ln x` for positive normal `x`.
#[inline(always)]
pub(crate) fn ln<const FMA: bool>(x: f32) -> f32 {
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 126;
    let m = f32::from_bits((bits & 0x807f_ffff) | 0x3f00_0000); // in [0.5, 1)
    let small = m < std::f32::consts::FRAC_1_SQRT_2;
    let e = (if small { e - 1 } else { e }) as f32;
    let m = if small { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let mut y = 7.037_683_6e-2f32;
    for c in [
        -1.151_461e-1,
        1.167_699_9e-1,
        -1.242_014_1e-1,
        1.424_932_3e-1,
        -1.666_805_8e-1,
        2.000_071_4e-1,
        -2.499_999_4e-1,
        3.333_333_1e-1,
    ] {
        y = madd::<FMA>(y, m, c);
    }
    let y = y * m * z;
    let y = madd::<FMA>(e, -2.121_944_4e-4, y);
    let y = madd::<FMA>(z, -0.5, y);
    madd::<FMA>(e, 0.693_359_4, m + y)
}

/// `tanh x`.
#[inline(always)]
pub(crate) fn tanh<const FMA: bool>(x: f32) -> f32 {
    let a = x.abs();
    // Large |x|: 1 - 2 / (e^{2|x|} + 1), with the sign of x.
    let large = (1.0 - 2.0 / (exp::<FMA>(2.0 * a) + 1.0)).copysign(x);
    // Small |x|: an odd polynomial.
    let z = x * x;
    let mut p = -5.704_988_7e-3f32;
    for c in [2.063_908_9e-2, -5.373_971_6e-2, 1.333_144_2e-1, -3.333_328_2e-1] {
        p = madd::<FMA>(p, z, c);
    }
    let small = madd::<FMA>(p * z, x, x);
    if a < 0.625 { small } else { large }
}

/// `(sin 2 pi u, cos 2 pi u)` for `u` in [0, 1].
#[inline(always)]
pub(crate) fn sin_cos_turns<const FMA: bool>(u: f32) -> (f32, f32) {
    // u = (q + f) / 4 with q whole and f in [-1/2, 1/2]: the angle is q quarter turns plus
    // phi = f pi / 2 in [-pi/4, pi/4], where Cephes' polynomials hold.
    // `round` (half away from zero) written with `trunc`, which vector units have.
    let quarters = 4.0 * u;
    let whole = quarters.trunc();
    let q = if (quarters - whole).abs() >= 0.5 { whole + 1.0f32.copysign(quarters) } else { whole };
    let phi = (quarters - q) * std::f32::consts::FRAC_PI_2;
    let z = phi * phi;
    let s = madd::<FMA>(madd::<FMA>(madd::<FMA>(-1.951_529_6e-4, z, 8.332_161e-3), z, -1.666_665_5e-1) * z, phi, phi);
    let c = madd::<FMA>(
        madd::<FMA>(madd::<FMA>(2.443_315_7e-5, z, -1.388_731_6e-3), z, 4.166_664_6e-2) * z,
        z,
        1.0 - 0.5 * z,
    );
    // Quadrant q & 3: (s, c), (c, -s), (-s, -c), (-c, s), as selects rather than branches.
    let quadrant = whole_to_i32(q);
    let (s, c) = if quadrant & 1 == 0 { (s, c) } else { (c, -s) };
    if quadrant & 2 == 0 { (s, c) } else { (-s, -c) }
}

/// Standard normal samples by Box-Muller: two uniforms (`1 - u1` in (0, 1], `u2` in [0, 1))
/// drawn from `rng` per pair of samples, `sqrt(-2 ln u1)` times the cosine and the sine of
/// `2 pi u2`. The transform runs on the best vector instructions of this CPU, always without
/// fused multiply-adds, so the samples are the same bits on every machine.
pub(crate) fn standard_normals<R: rand::Rng + ?Sized>(rng: &mut R, n: usize) -> Vec<f32> {
    use rand::RngExt;
    let pairs = n.div_ceil(2);
    let (mut u1, mut u2) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for _ in 0..pairs {
        u1.push((1.0 - rng.random::<f64>()) as f32);
        u2.push(rng.random::<f64>() as f32);
    }
    let mut out = vec![0.0f32; 2 * pairs];
    box_muller(Isa::detected(), &u1, &u2, &mut out);
    out.truncate(n);
    out
}

multiversion!(FMA =>
/// [`standard_normals`]' transform of the uniforms `u1`, `u2` into `out` (`[cos, sin]` pairs).
/// `FMA` is not used: every path rounds as the portable one.
fn box_muller(u1: &[f32], u2: &[f32], out: &mut [f32]) {
    // Sixteen pairs at a time in lane arrays, so that the arithmetic runs on vectors; the
    // interleaving store comes after.
    for ((out, u1), u2) in out.chunks_mut(32).zip(u1.chunks(16)).zip(u2.chunks(16)) {
        let (mut a, mut b) = ([1.0f32; 16], [0.0f32; 16]);
        a[..u1.len()].copy_from_slice(u1);
        b[..u2.len()].copy_from_slice(u2);
        let (mut cos, mut sin) = ([0.0f32; 16], [0.0f32; 16]);
        for j in 0..16 {
            let r = (-2.0 * ln::<false>(a[j].max(f32::MIN_POSITIVE))).sqrt();
            let (s, c) = sin_cos_turns::<false>(b[j]);
            cos[j] = r * c;
            sin[j] = r * s;
        }
        for (j, pair) in out.chunks_exact_mut(2).enumerate() {
            pair[0] = cos[j];
            pair[1] = sin[j];
        }
    }
});

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid<const FMA: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp::<FMA>(-x))
}

/// `ln(1 + e^x)`, without overflow for large `x`.
#[inline(always)]
pub(crate) fn softplus<const FMA: bool>(x: f32) -> f32 {
    let t = exp::<FMA>(-x.abs());
    // ln(1 + t) for t in (0, 1], exact to rounding: ln(u) * t / (u - 1) with u = 1 + t
    // corrects the rounding of u (Goldberg 1991); t itself where u rounds to 1.
    let u = 1.0 + t;
    let log1p = if u == 1.0 { t } else { ln::<FMA>(u) * (t / (u - 1.0)) };
    x.max(0.0) + log1p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f32, want: f64, rel: f64) -> bool {
        (got as f64 - want).abs() <= rel * want.abs().max(1e-30) + 1e-30
    }

    #[test]
    fn functions_match_the_standard_library() {
        for i in -4000..=4000 {
            let x = i as f32 * 0.02; // -80 .. 80
            assert!(close(exp::<true>(x), (x as f64).exp(), 3e-7), "exp({x}) = {}", exp::<true>(x));
            assert!(close(exp::<false>(x), (x as f64).exp(), 3e-7), "exp({x})");
            let t = (x as f64).tanh();
            assert!((tanh::<true>(x) as f64 - t).abs() < 2e-7 * t.abs().max(1e-3), "tanh({x}) = {}", tanh::<true>(x));
            assert!((tanh::<false>(x) as f64 - t).abs() < 2e-7 * t.abs().max(1e-3), "tanh({x})");
            let sp = (x as f64).exp().ln_1p();
            assert!(close(softplus::<true>(x), sp, 3e-7), "softplus({x}) = {}", softplus::<true>(x));
            let s = 1.0 / (1.0 + (-x as f64).exp());
            assert!(close(sigmoid::<true>(x), s, 3e-7), "sigmoid({x})");
        }
        for i in 0..=4000 {
            let u = i as f32 / 4000.0;
            let (s, c) = sin_cos_turns::<true>(u);
            let a = std::f64::consts::TAU * u as f64;
            assert!((s as f64 - a.sin()).abs() < 3e-7 && (c as f64 - a.cos()).abs() < 3e-7, "sin_cos({u})");
        }
        for i in 1..=20000 {
            let x = i as f32 * 1.37e-3;
            for x in [x, x * 1e-20, x * 1e20] {
                assert!(close(ln::<true>(x), (x as f64).ln(), 2e-7), "ln({x}) = {}", ln::<true>(x));
                assert!(close(ln::<false>(x), (x as f64).ln(), 2e-7), "ln({x})");
            }
        }
    }

    #[test]
    fn whole_to_i32_is_the_cast_of_whole_numbers() {
        for n in (-(1 << 22) + 1..1 << 22).step_by(997).chain(-300..300) {
            assert_eq!(whole_to_i32(n as f32), n, "{n}");
        }
        assert_eq!(whole_to_i32(-0.0), 0);
    }

    #[test]
    fn standard_normals_have_the_moments_of_a_standard_normal() {
        use rand::SeedableRng;
        let z = standard_normals(&mut rand::rngs::StdRng::seed_from_u64(3), 200_001);
        assert_eq!(z.len(), 200_001);
        let n = z.len() as f64;
        let mean = z.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = z.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let kurt = z.iter().map(|&v| (v as f64 - mean).powi(4)).sum::<f64>() / n / (var * var);
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.01 && (kurt - 3.0).abs() < 0.05, "{mean} {var} {kurt}");
        let within_one = z.iter().filter(|v| v.abs() < 1.0).count() as f64 / n;
        assert!((within_one - 0.6827).abs() < 0.005, "{within_one}");
    }

    #[test]
    fn box_muller_gives_the_same_bits_on_every_instruction_set() {
        let u1: Vec<f32> = (1..=4099).map(|i| i as f32 / 4099.0).collect();
        let u2: Vec<f32> = (0..4099).map(|i| (i * 7 % 4099) as f32 / 4099.0).collect();
        let transform = |isa: Isa| {
            let mut out = vec![0.0f32; 2 * u1.len()];
            box_muller(isa, &u1, &u2, &mut out);
            out.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
        };
        let portable = transform(Isa::Portable);
        for isa in [Isa::Avx2, Isa::Avx512].into_iter().filter(|isa| isa.is_supported()) {
            assert!(transform(isa) == portable, "{isa} differs from the portable path");
        }
    }
}
