//! SNI's mixing checked gradient by gradient against losses written out by hand.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::batch::Batch;
use super::loss::{action_log_prob, clipped_surrogate, entropy, log_probs, value_loss};
use super::sni::{PassWeights, loss};
use crate::backend::train_device;
use crate::nn::{ActorCritic, EncoderConfig, MlpConfig};
use crate::reg::{BottleneckConfig, l2_penalty};
use crate::{Agent, AgentConfig, Noise, ObsFormat};

const CLIP: f64 = 0.2;

/// An MLP agent with dropout, a bottleneck and L2 (every term of the loss present).
fn agent(sni_lambda: Option<f64>) -> Agent {
    let mut config = AgentConfig::multiroom();
    config.encoder = EncoderConfig::Mlp(MlpConfig::default());
    config.hidden.size = 16;
    config.regularizers.dropout = 0.3;
    config.regularizers.l2 = 1e-3;
    config.regularizers.bottleneck = Some(BottleneckConfig { beta: 0.01, rho_shift: 0.0 });
    config.sni_lambda = sni_lambda;
    Agent::new(&config, ObsFormat::grid(3, 3, 2), 4, 11).unwrap()
}

fn batch() -> Batch {
    let d = train_device();
    let b = 12;
    let f = |k: f32| -> Vec<f32> { (0..b).map(|i| (i as f32 * 1.7 + k).sin()).collect() };
    let obs: Vec<f32> = (0..b * 18).map(|i| ((i * 7) % 5) as f32).collect();
    Batch {
        obs: Tensor::from_data(TensorData::new(obs, [b, 2, 3, 3]), &d),
        boxes: None,
        actions: Tensor::<2, Int>::from_data(
            TensorData::new((0..b as i64).map(|i| i % 4).collect::<Vec<_>>(), [b, 1]),
            &d,
        ),
        old_log_probs: Tensor::from_data(
            TensorData::new(f(0.3).iter().map(|x| x * 0.2 - 1.4).collect::<Vec<_>>(), [b]),
            &d,
        ),
        old_values: Tensor::from_data(TensorData::new(f(1.0), [b]), &d),
        advantages: Tensor::from_data(TensorData::new(f(2.0), [b]), &d),
        returns: Tensor::from_data(TensorData::new(f(3.0), [b]), &d),
    }
}

/// The loss of one pass written out: policy terms from `policy`, critic from `critic`.
fn reference_loss(agent: &Agent, batch: &Batch, policy: Noise, seed: u64) -> Tensor<1> {
    let model = &agent.model;
    let ppo = &agent.config.ppo;
    let mut rng = StdRng::seed_from_u64(seed);
    // Same draw order as the learner: the noise-free pass (no draws), then the noisy one.
    let critic = model.forward(batch.obs.clone(), None, Noise::Off, &mut rng).unwrap();
    let out = match policy {
        Noise::Off => model.forward(batch.obs.clone(), None, Noise::Off, &mut rng),
        Noise::On => model.forward(batch.obs.clone(), None, Noise::On, &mut rng),
    }
    .unwrap();
    let lp = log_probs(out.logits);
    let s = clipped_surrogate(
        action_log_prob(lp.clone(), batch.actions.clone()),
        batch.old_log_probs.clone(),
        batch.advantages.clone(),
        CLIP,
    );
    s.loss - entropy(lp).mul_scalar(ppo.ent_coef)
        + value_loss(critic.values, batch.old_values.clone(), batch.returns.clone(), Some(CLIP)).mul_scalar(ppo.vf_coef)
        + out.kl.unwrap().mean().mul_scalar(0.01)
        + l2_penalty(model).unwrap().mul_scalar(1e-3)
}

/// Every parameter's gradient, flattened, in visiting order.
fn grads(model: &ActorCritic, loss: Tensor<1>) -> Vec<Vec<f32>> {
    struct Collect<'a>(&'a GradientsParams, Vec<Vec<f32>>);
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            if let Some(g) = self.0.get::<D>(p.id) {
                self.1.push(g.into_data().try_into_vec::<f32>().unwrap());
            }
        }
    }
    let g = GradientsParams::from_grads(loss.backward(), model);
    let mut c = Collect(&g, Vec::new());
    model.visit(&mut c);
    c.1
}

fn sni_grads(agent: &Agent, batch: &Batch, seed: u64) -> Vec<Vec<f32>> {
    let mix = PassWeights::new(&agent.config, &agent.model);
    let terms = loss(&agent.model, batch, &mix, &agent.config, CLIP, &mut StdRng::seed_from_u64(seed)).unwrap();
    grads(&agent.model, terms.total)
}

fn assert_close(a: &[Vec<f32>], b: &[Vec<f32>]) {
    assert_eq!(a.len(), b.len(), "same parameters have gradients");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        for (u, v) in x.iter().zip(y) {
            assert!((u - v).abs() <= 1e-6 + 1e-5 * v.abs(), "param {i}: {u} vs {v}");
        }
    }
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(u, v)| (u - v).abs()).fold(0.0, f32::max)
}

#[test]
fn lambda_one_is_the_noise_free_loss_and_lambda_zero_the_noisy_one() {
    let batch = batch();
    let one = agent(Some(1.0));
    let mix = PassWeights::new(&one.config, &one.model);
    assert_eq!((mix.noise_free, mix.noisy, mix.critic), (Some(1.0), Some(0.0), Noise::Off), "both passes run");
    let noise_free = grads(&one.model, reference_loss(&one, &batch, Noise::Off, 5));
    assert_close(&sni_grads(&one, &batch, 5), &noise_free);

    let zero = agent(Some(0.0));
    let noisy = grads(&zero.model, reference_loss(&zero, &batch, Noise::On, 5));
    assert_close(&sni_grads(&zero, &batch, 5), &noisy);

    // The two objectives really differ, and lambda = 0.5 lies between them.
    assert!(max_diff(&noise_free, &noisy) > 1e-4);
    let half = sni_grads(&agent(Some(0.5)), &batch, 5);
    let mean: Vec<Vec<f32>> =
        noise_free.iter().zip(&noisy).map(|(a, b)| a.iter().zip(b).map(|(x, y)| 0.5 * (x + y)).collect()).collect();
    assert_close(&half, &mean);
}

#[test]
fn without_sni_the_noisy_pass_drives_policy_and_critic() {
    let a = agent(None);
    let mix = PassWeights::new(&a.config, &a.model);
    assert_eq!((mix.noise_free, mix.noisy, mix.critic), (None, Some(1.0), Noise::On));
    assert_eq!(a.rollout_noise(), Noise::On);
    assert_eq!(agent(Some(0.5)).rollout_noise(), Noise::Off);
}
