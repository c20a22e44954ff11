//! An agent with the `vision` encoder: boxes reach the network when acting and learning, SNI with
//! dropout updates it, checkpoints round-trip it, and a pretrained backbone loads at creation.

mod common;

use common::{rng, weights};
use heldout_agents::backend::train_device;
use heldout_agents::init::Init;
use heldout_agents::vision::{BoxXyxy, DetectorConfig, LabelledBox, VisionError};
use heldout_agents::{
    ActOutput, Agent, AgentConfig, AgentError, BottleneckConfig, EncoderConfig, ObsFormat, Observations, Rollout,
    VisionConfig,
};
use rand::RngExt;
use rand::rngs::StdRng;

const SIZE: usize = 32;
const ACTIONS: usize = 7;

fn obs_format() -> ObsFormat {
    ObsFormat::rgb(SIZE, SIZE)
}

/// A small vision encoder (so the test is quick), optionally starting from a backbone file.
fn vision(pretrained: Option<&std::path::Path>) -> VisionConfig {
    VisionConfig {
        channels: [8, 8, 8],
        fpn_channels: 8,
        max_objects: 3,
        agent_box_size: 8.0,
        features: 32,
        pretrained_backbone: pretrained.map(Into::into),
        ..VisionConfig::default()
    }
}

/// CoinRun's agent with the vision encoder, dropout 0.2 and SNI lambda 0.5.
fn config(pretrained: Option<&std::path::Path>) -> AgentConfig {
    let mut config = AgentConfig::coinrun();
    config.encoder = EncoderConfig::Vision(vision(pretrained));
    config.hidden.size = 32;
    config.regularizers.dropout = 0.2;
    config.sni_lambda = Some(0.5);
    config.ppo.epochs = 2;
    config.ppo.minibatches = 2;
    config
}

/// `n` random frames and 0 to 3 random object boxes for each.
fn frames(n: usize, rng: &mut StdRng) -> (Vec<u8>, Vec<Vec<LabelledBox>>) {
    let bytes = (0..n * obs_format().len()).map(|_| rng.random()).collect();
    let boxes = (0..n)
        .map(|_| {
            (0..rng.random_range(0..4))
                .map(|_| {
                    let (x, y) = (rng.random_range(0.0..24.0f32), rng.random_range(0.0..24.0f32));
                    LabelledBox { class: rng.random_range(0..7), bbox: BoxXyxy::new(x, y, x + 6.0, y + 8.0) }
                })
                .collect()
        })
        .collect();
    (bytes, boxes)
}

/// A rollout of `steps` x `envs` random frames with their boxes, acted on by `agent`.
fn rollout(agent: &Agent, steps: usize, envs: usize, rng: &mut StdRng) -> Rollout {
    let mut rollout = Rollout::with_capacity(steps, envs, &obs_format());
    for _ in 0..steps {
        let (bytes, boxes) = frames(envs, rng);
        let act: ActOutput = agent.act(Observations::with_boxes(&bytes, &boxes), rng).unwrap();
        let rewards: Vec<f32> = act.actions.iter().map(|&a| if a == 1 { 1.0 } else { 0.0 }).collect();
        rollout.push(Observations::with_boxes(&bytes, &boxes), &act, &rewards, &vec![false; envs]);
    }
    let (bytes, boxes) = frames(envs, rng);
    rollout.next_values = agent.values(Observations::with_boxes(&bytes, &boxes)).unwrap();
    rollout
}

#[test]
fn the_vision_agent_acts_on_boxes_and_needs_them() {
    let agent = Agent::new(&config(None), obs_format(), ACTIONS, 1).unwrap();
    let mut r = rng(2);
    let (bytes, boxes) = frames(3, &mut r);
    let out = agent.act(Observations::with_boxes(&bytes, &boxes), &mut r).unwrap();
    assert_eq!((out.actions.len(), out.log_probs.len(), out.values.len()), (3, 3, 3));

    // The boxes are read: moving them changes the values.
    let moved: Vec<Vec<LabelledBox>> = vec![vec![LabelledBox { class: 2, bbox: BoxXyxy::new(1.0, 1.0, 9.0, 9.0) }]; 3];
    let with = agent.values(Observations::with_boxes(&bytes, &boxes)).unwrap();
    let without = agent.values(Observations::with_boxes(&bytes, &moved)).unwrap();
    assert_ne!(with, without);

    assert!(matches!(agent.act(&bytes, &mut r), Err(AgentError::MissingBoxes)));
    assert!(matches!(agent.values(&bytes), Err(AgentError::MissingBoxes)));
    let bad = vec![vec![LabelledBox { class: 7, bbox: BoxXyxy::new(0.0, 0.0, 4.0, 4.0) }]; 3];
    let err = agent.values(Observations::with_boxes(&bytes, &bad)).unwrap_err();
    assert!(matches!(err, AgentError::Vision(VisionError::ClassOutOfRange { class: 7, num_classes: 7 })), "{err}");
    let err = agent.values(Observations::with_boxes(&bytes, &boxes[..2])).unwrap_err();
    assert!(matches!(err, AgentError::Vision(VisionError::BatchSizeMismatch { images: 3, boxes: 2 })), "{err}");
}

#[test]
fn the_vision_agent_updates_with_sni_and_round_trips_a_checkpoint() {
    let mut agent = Agent::new(&config(None), obs_format(), ACTIONS, 3).unwrap();
    assert!(agent.model().injects_noise(), "dropout makes the noisy and noise-free passes differ");
    let mut r = rng(4);
    let data = rollout(&agent, 4, 4, &mut r);

    // A rollout without its boxes is refused before anything changes.
    let before = weights(&agent);
    let mut boxless = data.clone();
    boxless.boxes.clear();
    assert!(matches!(agent.update(&boxless, 0.0), Err(AgentError::MissingBoxes)));
    let mut short = data.clone();
    short.boxes.pop();
    assert!(matches!(agent.update(&short, 0.0), Err(AgentError::RolloutShape { field: "boxes", .. })));
    assert_eq!(weights(&agent), before);

    let stats = agent.update(&data, 0.0).unwrap();
    assert!(stats.policy_loss.is_finite() && stats.value_loss.is_finite() && stats.grad_norm > 0.0, "{stats:?}");
    let after = weights(&agent);
    assert_ne!(after, before);
    assert_eq!(agent.updates_done(), 1);

    let dir = tempfile::tempdir().unwrap();
    agent.save(dir.path()).unwrap();
    let loaded = Agent::load(dir.path()).unwrap();
    assert_eq!(weights(&loaded), after);
    let (bytes, boxes) = frames(2, &mut r);
    let obs = Observations::with_boxes(&bytes, &boxes);
    assert_eq!(loaded.values(obs).unwrap(), agent.values(obs).unwrap());
    assert_eq!(loaded.config(), agent.config());
}

#[test]
fn batch_norm_and_the_bottleneck_work_on_the_vision_encoder() {
    let mut config = config(None);
    config.regularizers.dropout = 0.0;
    config.regularizers.batch_norm = true;
    config.regularizers.bottleneck = Some(BottleneckConfig { beta: 1e-4, rho_shift: 5.0 });
    let mut agent = Agent::new(&config, obs_format(), ACTIONS, 7).unwrap();
    assert!(agent.model().encoder_is_noisy(), "batch norm in the backbone");
    let mut r = rng(8);
    let data = rollout(&agent, 2, 4, &mut r);
    let before = weights(&agent);
    let stats = agent.update(&data, 0.5).unwrap();
    assert!(stats.kl_bottleneck > 0.0 && stats.policy_loss.is_finite(), "{stats:?}");
    assert_ne!(weights(&agent), before);
    // The weights and the batch-norm running statistics round-trip through a checkpoint.
    let dir = tempfile::tempdir().unwrap();
    agent.save(dir.path()).unwrap();
    assert_eq!(weights(&Agent::load(dir.path()).unwrap()), weights(&agent));
}

/// Every float tensor of a detector's backbone.
fn backbone_weights(detector: &heldout_agents::vision::Detector) -> Vec<Vec<f32>> {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::tensor::Tensor;
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            self.0.push(p.val().into_data().try_into_vec::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    detector.backbone.visit(&mut c);
    c.0
}

#[test]
fn a_pretrained_backbone_is_loaded_at_creation_and_missing_or_mismatched_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backbone.bpk");
    let mut init = Init { device: train_device(), rng: rand::SeedableRng::seed_from_u64(5) };
    let detector = DetectorConfig::new(7).with_backbone(vision(None).backbone()).init(&obs_format(), false, &mut init);
    let detector = detector.unwrap();
    detector.backbone.save(&path).unwrap();

    let agent = Agent::new(&config(Some(&path)), obs_format(), ACTIONS, 6).unwrap();
    let fresh = Agent::new(&config(None), obs_format(), ACTIONS, 6).unwrap();
    let pretrained = backbone_weights(&detector);
    // The backbone's tensors come first in the encoder, in the same order.
    assert_eq!(weights(&agent)[..pretrained.len()], pretrained[..]);
    assert_ne!(weights(&fresh)[..pretrained.len()], pretrained[..]);
    assert_eq!(weights(&agent)[pretrained.len()..], weights(&fresh)[pretrained.len()..], "the rest is as seeded");

    // A checkpoint does not need the backbone file any more.
    let ckpt = dir.path().join("agent");
    agent.save(&ckpt).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(weights(&Agent::load(&ckpt).unwrap()), weights(&agent));

    let err = Agent::new(&config(Some(&path)), obs_format(), ACTIONS, 6).unwrap_err();
    assert!(matches!(&err, AgentError::PretrainedBackbone { path: p, .. } if *p == path), "{err}");
    assert!(err.to_string().contains("backbone.bpk") && err.to_string().contains("cannot read"), "{err}");

    detector.backbone.save(&path).unwrap();
    let mut wider = config(Some(&path));
    let EncoderConfig::Vision(v) = &mut wider.encoder else { unreachable!() };
    v.fpn_channels = 16;
    let err = Agent::new(&wider, obs_format(), ACTIONS, 6).unwrap_err().to_string();
    assert!(err.contains("backbone.bpk") && err.contains("does not fit"), "{err}");
}

#[test]
fn the_vision_config_is_strict_with_defaults() {
    let parsed: EncoderConfig = serde_json::from_str(r#"{"vision": {"features": 64}}"#).unwrap();
    assert_eq!(parsed, EncoderConfig::Vision(VisionConfig { features: 64, ..VisionConfig::default() }));
    let err = serde_json::from_str::<EncoderConfig>(r#"{"vision": {"featurs": 64}}"#).unwrap_err();
    assert!(err.to_string().contains("featurs"), "{err}");
    let vision = vision(Some(std::path::Path::new("b.bpk")));
    let json = serde_json::to_string(&EncoderConfig::Vision(vision.clone())).unwrap();
    assert_eq!(serde_json::from_str::<EncoderConfig>(&json).unwrap(), EncoderConfig::Vision(vision));
    // Options are checked against the frames when an agent is made.
    let mut odd = config(None);
    odd.encoder = EncoderConfig::Vision(VisionConfig { features: 0, ..VisionConfig::default() });
    assert!(matches!(Agent::new(&odd, obs_format(), ACTIONS, 0), Err(AgentError::Vision(_))));
    assert!(matches!(Agent::new(&config(None), ObsFormat::rgb(30, 30), ACTIONS, 0), Err(AgentError::Vision(_))));
}
