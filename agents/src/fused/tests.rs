//! The fused learner against burn's generic path: forward passes, gradients and whole updates
//! for every regularizer and both noise modes, and its kernels per instruction set.

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::net::NoiseDraws;
use super::{Fused, FusedBatch, Isa, Learner};
use crate::nn::Activation;
use crate::ppo::batch::Batch;
use crate::ppo::sni::{PassWeights, loss};
use crate::reg::BottleneckConfig;
use crate::{Agent, AgentConfig, Noise, ObsFormat, Rollout};

const ACTIONS: usize = 7;

/// The arms of the study, and two more combinations (batch norm under SNI; relu).
fn arms() -> Vec<(&'static str, AgentConfig)> {
    let base = AgentConfig::multiroom();
    let with = |f: &dyn Fn(&mut AgentConfig)| {
        let mut c = base.clone();
        f(&mut c);
        c
    };
    let ib = || Some(BottleneckConfig { beta: 1e-2, rho_shift: 0.5 });
    vec![
        ("baseline", base.clone()),
        ("l2", with(&|c| c.regularizers.l2 = 1e-3)),
        ("dropout", with(&|c| c.regularizers.dropout = 0.2)),
        ("batchnorm", with(&|c| c.regularizers.batch_norm = true)),
        ("ibac", with(&|c| c.regularizers.bottleneck = ib())),
        (
            "ibac-sni",
            with(&|c| {
                c.regularizers.bottleneck = ib();
                c.sni_lambda = Some(0.5);
            }),
        ),
        (
            "dropout-sni",
            with(&|c| {
                c.regularizers.dropout = 0.2;
                c.sni_lambda = Some(0.5);
            }),
        ),
        (
            "batchnorm-sni-l2",
            with(&|c| {
                c.regularizers.batch_norm = true;
                c.regularizers.l2 = 1e-3;
                c.sni_lambda = Some(0.25);
            }),
        ),
        (
            "ibac-dropout-relu",
            with(&|c| {
                c.regularizers.bottleneck = ib();
                c.regularizers.dropout = 0.3;
                c.hidden.activation = Activation::Relu;
            }),
        ),
    ]
}

/// The two observations of the MultiRoom presets: the egocentric view and the full grid.
fn formats() -> [ObsFormat; 2] {
    [ObsFormat::grid(7, 7, 3), ObsFormat::grid(11, 11, 3)]
}

/// The agent of `config` with the generic learner and with the fused one (same weights), or
/// `None` where the fused learner leaves the network to the generic one.
fn pair(config: &AgentConfig, obs: ObsFormat) -> Option<(Agent, Agent)> {
    let mut generic = config.clone();
    generic.learner = Learner::Generic;
    let g = Agent::new(&generic, obs, ACTIONS, 3).unwrap();
    let f = Agent::new(config, obs, ACTIONS, 3).unwrap();
    assert!(g.fused.is_none());
    let last_map_is_a_cell = obs.height == 7;
    if config.regularizers.batch_norm && !last_map_is_a_cell {
        assert!(f.fused.is_none(), "batch norm on the 11x11 grid is the generic learner's");
        return None;
    }
    assert!(f.fused.is_some(), "the MultiRoom net runs fused unless asked otherwise");
    Some((g, f))
}

/// A rollout of `samples` random grids acted on by `agent`, with random rewards and ends.
fn rollout(agent: &Agent, samples: usize, seed: u64) -> Rollout {
    let obs = agent.obs_format();
    let mut rng = StdRng::seed_from_u64(seed);
    let bytes: Vec<u8> = (0..samples * obs.len()).map(|_| rng.random_range(0..=10)).collect();
    let act = agent.act(&bytes, &mut rng).unwrap();
    let rewards: Vec<f32> = (0..samples).map(|_| rng.random::<f32>() - 0.3).collect();
    let ended: Vec<bool> = (0..samples).map(|_| rng.random::<f32>() < 0.1).collect();
    let mut r = Rollout::with_capacity(1, samples, &obs);
    r.push(&bytes, &act, &rewards, &ended);
    r.next_values = vec![0.0; samples];
    r
}

fn close(what: &str, got: &[f32], want: &[f32], atol: f32, rtol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= atol + rtol * w.abs(), "{what}[{i}]: fused {g}, generic {w}");
    }
}

#[test]
fn forward_passes_match_the_generic_network() {
    for obs in formats() {
        for (name, config) in arms() {
            let Some((g, f)) = pair(&config, obs) else { continue };
            let r = rollout(&g, 40, 1);
            for noise in [Noise::Off, Noise::On] {
                let (pg, vg) = g.probabilities(&r.obs, noise, &mut StdRng::seed_from_u64(5)).unwrap();
                let (pf, vf) = f.probabilities(&r.obs, noise, &mut StdRng::seed_from_u64(5)).unwrap();
                let what = format!("{name} {}x{} {noise:?}", obs.height, obs.width);
                close(&format!("{what} probabilities"), &pf, &pg, 1e-6, 1e-5);
                close(&format!("{what} values"), &vf, &vg, 1e-5, 1e-5);
            }
            let mut rg = StdRng::seed_from_u64(9);
            let mut rf = StdRng::seed_from_u64(9);
            assert_eq!(g.act(&r.obs, &mut rg).unwrap().actions, f.act(&r.obs, &mut rf).unwrap().actions, "{name}");
        }
    }
}

#[test]
fn a_forward_pass_in_blocks_equals_one_pass_over_the_batch() {
    for obs in formats() {
        for (name, config) in arms() {
            let Some((_, f)) = pair(&config, obs) else { continue };
            let fused = f.fused.as_ref().expect("fused");
            for n in [1, 31, 32, 33, 64, 100, 257] {
                let r = rollout(&f, n, 2);
                for noise in [Noise::Off, Noise::On] {
                    let blocks = fused.forward(&r.obs, noise, &mut StdRng::seed_from_u64(4));
                    let mut rng = StdRng::seed_from_u64(4);
                    let noisy = noise == Noise::On && fused.injects_noise();
                    let draws = if noisy { fused.draw(n, &mut rng).rows(0..n) } else { NoiseDraws::default() };
                    let whole = fused.forward_block(&r.obs, noise, draws);
                    let what = format!("{name} {}x{} n = {n} {noise:?}", obs.height, obs.width);
                    assert_eq!(blocks.logits, whole.logits, "{what}: logits");
                    assert_eq!(blocks.values, whole.values, "{what}: values");
                }
            }
        }
    }
}

/// Every tensor of `layout` by name.
fn tensors(l: &super::params::Layout) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    for i in 0..3 {
        out.push((format!("conv{i}.weight"), l.conv_weight[i].clone()));
        out.push((format!("conv{i}.bias"), l.conv_bias[i].clone()));
    }
    for (i, (scale, shift)) in l.norm_scale.iter().zip(&l.norm_shift).enumerate() {
        out.push((format!("norm{i}.scale"), scale.clone()));
        out.push((format!("norm{i}.shift"), shift.clone()));
    }
    for (name, r) in [
        ("latent.weight", &l.latent_weight),
        ("latent.bias", &l.latent_bias),
        ("policy.weight", &l.policy_weight),
        ("policy.bias", &l.policy_bias),
        ("value.weight", &l.value_weight),
        ("value.bias", &l.value_bias),
    ] {
        out.push((name.to_string(), r.clone()));
    }
    out
}

/// burn's gradient of each parameter of `model`, in `fused`'s layout.
fn generic_gradients(model: &crate::nn::ActorCritic, grads: &GradientsParams, fused: &Fused) -> Vec<f32> {
    struct ToGrad<'a>(&'a GradientsParams);
    impl ModuleMapper for ToGrad<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            match self.0.get::<D>(param.id) {
                Some(g) => param.map(|t| Tensor::from_data(g.into_data(), &t.device())),
                None => param, // a batch norm's running statistics: not trained
            }
        }
    }
    let grad_model = model.clone().map(&mut ToGrad(grads));
    super::params::import(&grad_model, &fused.net.layout).0
}

#[test]
fn gradients_match_the_generic_graph_for_every_regularizer() {
    for obs in formats() {
        for (name, config) in arms() {
            let Some((g, mut f)) = pair(&config, obs) else { continue };
            let r = rollout(&g, 96, 2);
            let advantages: Vec<f32> = (0..96).map(|i| ((i * 37) % 19) as f32 / 9.0 - 1.0).collect();
            let returns: Vec<f32> = (0..96).map(|i| ((i * 11) % 7) as f32 / 3.0 - 1.0).collect();
            let indices: Vec<usize> = (0..96).rev().step_by(2).collect();
            let weights = PassWeights::new(&config, &g.model);

            let mut rng = StdRng::seed_from_u64(4);
            let batch = Batch::gather(&r, &indices, &advantages, &returns, &g, &mut rng);
            let generic = loss(&g.model, &batch, &weights, &config, 0.1, &mut rng).unwrap();
            let grads = GradientsParams::from_grads(generic.total.backward(), &g.model);

            let fused = f.fused.as_mut().unwrap();
            let batch = FusedBatch { rollout: &r, indices: &indices, advantages: &advantages, returns: &returns };
            let (parts, fused_grads) =
                fused.gradients(&batch, &weights, &config, 0.1, &mut StdRng::seed_from_u64(4)).unwrap();
            let want = generic_gradients(&g.model, &grads, fused);

            let what = format!("{name} {}x{}", obs.height, obs.width);
            for (tensor, range) in tensors(&fused.net.layout) {
                let (got, want) = (&fused_grads[range.clone()], &want[range]);
                let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| (x as f64).powi(2)).sum::<f64>().sqrt();
                let error = norm(&mut got.iter().zip(want).map(|(a, b)| a - b));
                let size = norm(&mut want.iter().copied());
                assert!(
                    error <= 1e-5 * size + 1e-9,
                    "{what} {tensor}: |fused - generic| = {error:e}, |generic| = {size:e}"
                );
            }
            let (p, q) = (parts, generic.parts);
            for (part, a, b) in [
                ("policy", p.policy, q.policy),
                ("value", p.value, q.value),
                ("entropy", p.entropy, q.entropy),
                ("approx_kl", p.approx_kl, q.approx_kl),
                ("clipfrac", p.clipfrac, q.clipfrac),
                ("kl", p.kl_bottleneck, q.kl_bottleneck),
                ("l2", p.l2, q.l2),
                ("total", p.total, q.total),
            ] {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{what} {part}: fused {a}, generic {b}");
            }
            // Batch norm's running statistics moved alike in the noisy pass.
            let after = super::params::import(&g.model, &fused.net.layout).1;
            for (a, b) in fused.running.iter().zip(&after) {
                close(&format!("{what} running mean"), &a.mean, &b.mean, 1e-6, 1e-5);
                close(&format!("{what} running var"), &a.var, &b.var, 1e-6, 1e-5);
            }
        }
    }
}

#[test]
fn whole_updates_match_the_generic_learner() {
    for (name, mut config) in arms() {
        config.ppo.epochs = 2;
        config.ppo.minibatches = 4;
        let obs = ObsFormat::grid(7, 7, 3);
        let (mut g, mut f) = pair(&config, obs).unwrap();
        for round in 0..2 {
            let r = rollout(&g, 128, 10 + round);
            let sg = g.update(&r, 0.0).unwrap();
            let sf = f.update(&r, 0.0).unwrap();
            for (part, a, b) in [
                ("policy", sf.policy_loss, sg.policy_loss),
                ("value", sf.value_loss, sg.value_loss),
                ("entropy", sf.entropy, sg.entropy),
                ("grad_norm", sf.grad_norm, sg.grad_norm),
            ] {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{name} update {round} {part}: fused {a}, generic {b}"
                );
            }
            // Both burn modules now hold the updated weights (the fused learner exported its own).
            let fused = f.fused.as_ref().unwrap();
            let want = super::params::import(&g.model, &fused.net.layout).0;
            let got = super::params::import(&f.model(), &fused.net.layout).0;
            assert_eq!(got, fused.params, "{name}: the burn module holds the fused parameters");
            close(&format!("{name} weights after update {round}"), &got, &want, 2e-5, 1e-4);
        }
    }
}

#[test]
fn avx2_and_avx512_agree_bitwise_and_portable_within_rounding() {
    let isas: Vec<Isa> = [Isa::Avx512, Isa::Avx2, Isa::Portable].into_iter().filter(|i| i.is_supported()).collect();
    for (name, config) in arms() {
        let obs = ObsFormat::grid(7, 7, 3);
        let results: Vec<(Isa, Vec<f32>, Vec<f32>)> = isas
            .iter()
            .map(|&isa| {
                let (g, mut f) = pair(&config, obs).unwrap();
                f.fused.as_mut().unwrap().set_isa(isa);
                let r = rollout(&g, 80, 3);
                let (probs, _) = f.probabilities(&r.obs, Noise::On, &mut StdRng::seed_from_u64(1)).unwrap();
                f.update(&r, 0.5).unwrap();
                (isa, probs, f.fused.unwrap().params)
            })
            .collect();
        let (_, probs0, params0) = &results[0];
        for (isa, probs, params) in &results[1..] {
            if *isa == Isa::Portable {
                close(&format!("{name} portable probabilities"), probs, probs0, 1e-6, 1e-5);
                close(&format!("{name} portable weights"), params, params0, 2e-5, 1e-4);
            } else {
                assert_eq!(probs, probs0, "{name}: {isa} probabilities");
                assert_eq!(params, params0, "{name}: {isa} weights");
            }
        }
    }
}

#[test]
fn a_checkpoint_of_the_fused_learner_resumes_exactly() {
    let (name, config) = arms().remove(5);
    assert_eq!(name, "ibac-sni");
    let obs = ObsFormat::grid(7, 7, 3);
    let (_, mut a) = pair(&config, obs).unwrap();
    let r = rollout(&a, 64, 7);
    a.update(&r, 0.0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    a.save(dir.path()).unwrap();
    let mut b = Agent::load(dir.path()).unwrap();
    assert!(b.fused.is_some());
    a.update(&r, 0.5).unwrap();
    b.update(&r, 0.5).unwrap();
    let (fa, fb) = (a.fused.unwrap(), b.fused.unwrap());
    assert_eq!(fa.params, fb.params);
    assert_eq!(fa.adam, fb.adam);
}

#[test]
fn a_checkpoint_of_the_generic_learner_goes_on_with_the_generic_learner() {
    let (_, config) = arms().remove(5);
    let obs = ObsFormat::grid(7, 7, 3);
    let (mut g, _) = pair(&config, obs).unwrap();
    let r = rollout(&g, 64, 8);
    g.update(&r, 0.0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    g.save(dir.path()).unwrap();
    let loaded = Agent::load(dir.path()).unwrap();
    assert!(loaded.fused.is_none());
    assert_eq!(loaded.config().learner, Learner::Generic);
}
