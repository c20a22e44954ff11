//! Minibatches: the rollout's samples cut into shuffled parts and gathered onto the training
//! device.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;

use super::Rollout;
use crate::agent::Agent;
use crate::backend::train_device;
use crate::reg::augment::cutout;
use crate::vision::LabelledBox;

/// `order` cut into `parts` contiguous near-equal chunks (the first `len % parts` one longer).
pub(crate) fn split(order: &[usize], parts: usize) -> impl Iterator<Item = &[usize]> {
    let parts = parts.min(order.len());
    let (base, extra) = (order.len() / parts, order.len() % parts);
    (0..parts).map(move |p| {
        let start = p * base + p.min(extra);
        &order[start..start + base + usize::from(p < extra)]
    })
}

/// One minibatch on the training device.
pub(crate) struct Batch {
    /// `[b, c, h, w]` observations (cut-outs applied when configured).
    pub obs: Tensor<4>,
    /// The object boxes of each observation, when the rollout has them.
    pub boxes: Option<Vec<Vec<LabelledBox>>>,
    /// `[b, 1]` actions taken.
    pub actions: Tensor<2, Int>,
    /// `[b]` rollout-policy log-probabilities of the actions.
    pub old_log_probs: Tensor<1>,
    /// `[b]` rollout values.
    pub old_values: Tensor<1>,
    /// `[b]` advantages (normalised when configured).
    pub advantages: Tensor<1>,
    /// `[b]` returns.
    pub returns: Tensor<1>,
}

impl Batch {
    /// Gathers the samples `indices` of `rollout`.
    pub(crate) fn gather<R: Rng + ?Sized>(
        rollout: &Rollout,
        indices: &[usize],
        advantages: &[f32],
        returns: &[f32],
        agent: &Agent,
        rng: &mut R,
    ) -> Batch {
        let device = train_device();
        let obs_len = agent.obs.len();
        let mut obs = Vec::with_capacity(indices.len() * obs_len);
        for &i in indices {
            obs.extend_from_slice(&rollout.obs[i * obs_len..(i + 1) * obs_len]);
        }
        if agent.config.regularizers.augment {
            cutout(&mut obs, &agent.obs, rng);
        }
        let pick = |v: &[f32]| indices.iter().map(|&i| v[i]).collect::<Vec<f32>>();
        let mut adv = pick(advantages);
        if agent.config.ppo.normalize_advantages {
            normalize(&mut adv);
        }
        let actions: Vec<i64> = indices.iter().map(|&i| rollout.actions[i] as i64).collect();
        let b = indices.len();
        Batch {
            obs: agent.obs.to_tensor(&obs, &device),
            boxes: rollout.boxes().map(|boxes| indices.iter().map(|&i| boxes[i].clone()).collect()),
            actions: Tensor::from_data(TensorData::new(actions, [b, 1]), &device),
            old_log_probs: vector(pick(&rollout.log_probs), &device),
            old_values: vector(pick(&rollout.values), &device),
            advantages: vector(adv, &device),
            returns: vector(pick(returns), &device),
        }
    }
}

/// A `[len]` tensor.
fn vector(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// `(x - mean) / (std + 1e-8)` with the unbiased standard deviation (as CleanRL, per minibatch).
pub(crate) fn normalize(x: &mut [f32]) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let std = var.sqrt() + 1e-8;
    x.iter_mut().for_each(|v| *v = ((*v as f64 - mean) / std) as f32);
}
