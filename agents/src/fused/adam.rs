//! Adam on the flat parameter vector, as burn's `Adam` computes it (betas 0.9 and 0.999, the
//! bias corrections folded into the step), and the global-norm gradient clip.

use super::isa::{madd, multiversion};
use super::kernels::dot;

/// Adam's first moment decay.
const BETA_1: f32 = 0.9;
/// Adam's second moment decay.
const BETA_2: f32 = 0.999;

/// Adam's state: both moments of every parameter and the steps taken.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Adam {
    /// First moments.
    pub first: Vec<f32>,
    /// Second moments.
    pub second: Vec<f32>,
    /// Steps taken.
    pub steps: u64,
}

impl Adam {
    /// A fresh state for `len` parameters.
    pub(crate) fn new(len: usize) -> Adam {
        Adam { first: vec![0.0; len], second: vec![0.0; len], steps: 0 }
    }
}

multiversion!(FMA =>
/// One Adam step of `params` along `grads` with learning rate `lr` and epsilon `eps`:
/// `p -= lr * m_hat / (sqrt(v_hat) + eps)`.
pub(crate) fn adam_step(adam: &mut Adam, params: &mut [f32], grads: &[f32], lr: f32, eps: f32) {
    adam.steps += 1;
    let t = adam.steps.min(i32::MAX as u64) as i32;
    let correction2 = (1.0 - BETA_2.powi(t)).sqrt();
    let factor = correction2 / (1.0 - BETA_1.powi(t));
    let eps = eps * correction2;
    for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(&mut adam.first).zip(&mut adam.second) {
        *m = madd::<FMA>(*m, BETA_1, g * (1.0 - BETA_1));
        *v = madd::<FMA>(*v, BETA_2, g * g * (1.0 - BETA_2));
        *p -= lr * (*m * factor / (v.sqrt() + eps));
    }
});

multiversion!(FMA =>
/// Scales `grads` by `max_norm / (norm + 1e-6)` when their L2 norm exceeds `max_norm`; returns
/// the norm before clipping (a NaN or infinite norm leaves them as they are).
pub(crate) fn clip_global_norm(grads: &mut [f32], max_norm: f64) -> f64 {
    let norm = (dot::<FMA>(grads, grads) as f64).sqrt();
    if norm.is_finite() && norm > max_norm {
        let scale = (max_norm / (norm + 1e-6)) as f32;
        grads.iter_mut().for_each(|g| *g *= scale);
    }
    norm
});

/// First bytes of a checkpoint's optimizer file written by the fused learner.
pub(crate) const MAGIC: &[u8; 19] = b"heldout-fused-adam\n";

impl Adam {
    /// The state as bytes: [`MAGIC`], the step count and the length (u64, little-endian), then
    /// both moments (f32, little-endian).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + 16 + 8 * self.first.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.steps.to_le_bytes());
        out.extend_from_slice(&(self.first.len() as u64).to_le_bytes());
        for v in self.first.iter().chain(&self.second) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads [`Adam::to_bytes`] for `len` parameters; `Ok(None)` when the bytes are not the
    /// fused learner's (burn's optimizer record), `Err` when they are but do not fit.
    pub(crate) fn from_bytes(bytes: &[u8], len: usize) -> Result<Option<Adam>, String> {
        let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else { return Ok(None) };
        let word = |i: usize| rest.get(8 * i..8 * i + 8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        let (Some(steps), Some(stored)) = (word(0), word(1)) else { return Err("truncated fused Adam state".into()) };
        if stored != len as u64 {
            return Err(format!("fused Adam state for {stored} parameters, the network has {len}"));
        }
        let values = &rest[16..];
        if values.len() != 8 * len {
            return Err(format!("fused Adam state of {} bytes after its header, {} expected", values.len(), 8 * len));
        }
        let floats: Vec<f32> =
            values.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        let (first, second) = floats.split_at(len);
        Ok(Some(Adam { first: first.to_vec(), second: second.to_vec(), steps }))
    }
}
