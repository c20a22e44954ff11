//! Configuration validation and bad input: clear errors, never panics.

mod common;

use common::{ACTIONS, bandit_config, bandit_obs, bandit_rollout, rng, weights};
use heldout_agents::nn::{ImpalaConfig, MultiRoomConfig};
use heldout_agents::{Agent, AgentConfig, AgentError, BottleneckConfig, EncoderConfig, ObsFormat, Rollout};

/// The field named by an `InvalidConfig` error from `Agent::new`.
fn invalid_field(config: &AgentConfig, obs: ObsFormat, actions: usize) -> String {
    match Agent::new(config, obs, actions, 0) {
        Err(AgentError::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn presets_are_valid_and_build() {
    for (config, obs, actions) in
        [(AgentConfig::multiroom(), ObsFormat::grid(11, 11, 3), 7), (AgentConfig::coinrun(), ObsFormat::rgb(64, 64), 7)]
    {
        config.validate().unwrap();
        let agent = Agent::new(&config, obs, actions, 1).unwrap();
        let out = agent.act(&vec![1u8; 2 * obs.len()], &mut rng(0)).unwrap();
        assert_eq!(out.actions.len(), 2);
    }
    assert_eq!(AgentConfig::default(), AgentConfig::multiroom());
}

/// Puts one field of a config out of range.
type Breaker = fn(&mut AgentConfig);

#[test]
fn each_out_of_range_field_is_named() {
    let obs = bandit_obs();
    let cases: Vec<(&str, Breaker)> = vec![
        ("ppo.learning_rate", |c| c.ppo.learning_rate = 0.0),
        ("ppo.clip", |c| c.ppo.clip = -0.1),
        ("ppo.gamma", |c| c.ppo.gamma = 1.5),
        ("ppo.gae_lambda", |c| c.ppo.gae_lambda = f64::NAN),
        ("ppo.ent_coef", |c| c.ppo.ent_coef = -1.0),
        ("ppo.vf_coef", |c| c.ppo.vf_coef = f64::INFINITY),
        ("ppo.max_grad_norm", |c| c.ppo.max_grad_norm = 0.0),
        ("ppo.adam_eps", |c| c.ppo.adam_eps = -1e-5),
        ("ppo.epochs", |c| c.ppo.epochs = 0),
        ("ppo.minibatches", |c| c.ppo.minibatches = 0),
        ("sni_lambda", |c| c.sni_lambda = Some(1.5)),
        ("regularizers.dropout", |c| c.regularizers.dropout = 1.0),
        ("regularizers.l2", |c| c.regularizers.l2 = -1e-4),
        ("regularizers.bottleneck.beta", |c| {
            c.regularizers.bottleneck = Some(BottleneckConfig { beta: -1.0, rho_shift: 0.0 })
        }),
        ("hidden.size", |c| c.hidden.size = 0),
        ("encoder.impala.depths (length)", |c| c.encoder = EncoderConfig::Impala(ImpalaConfig { depths: vec![] })),
    ];
    for (field, break_it) in cases {
        let mut config = bandit_config();
        break_it(&mut config);
        assert_eq!(invalid_field(&config, obs, 3), field);
        let err = Agent::new(&config, obs, 3, 0).unwrap_err().to_string();
        assert!(err.contains(field) && err.contains("allowed"), "{err}");
    }
    assert_eq!(invalid_field(&bandit_config(), obs, 0), "num_actions");
    assert_eq!(invalid_field(&bandit_config(), ObsFormat::grid(0, 2, 1), 3), "obs.height");
    let mut grid_net = bandit_config();
    grid_net.encoder = EncoderConfig::MultiRoom(MultiRoomConfig::default());
    assert_eq!(invalid_field(&grid_net, ObsFormat::grid(5, 11, 3), 7), "obs.height (MultiRoom conv net)");
}

#[test]
fn configs_round_trip_through_json_and_reject_unknown_fields() {
    let config = AgentConfig::coinrun();
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(serde_json::from_str::<AgentConfig>(&json).unwrap(), config);
    let typo = json.replacen("\"ent_coef\"", "\"entcoef\"", 1);
    let err = serde_json::from_str::<AgentConfig>(&typo).unwrap_err().to_string();
    assert!(err.contains("entcoef"), "{err}");
    let extra = json.replacen("\"depths\"", "\"colour\":1,\"depths\"", 1);
    assert!(serde_json::from_str::<AgentConfig>(&extra).is_err());
}

#[test]
fn bad_observations_and_rollouts_are_errors() {
    let mut agent = Agent::new(&bandit_config(), bandit_obs(), 3, 0).unwrap();
    assert!(matches!(agent.act(&[0; 5], &mut rng(0)), Err(AgentError::ObsLength { obs_len: 4, got: 5 })));
    assert!(matches!(agent.values(&[]), Err(AgentError::ObsLength { .. })));

    let (good, _) = bandit_rollout(&agent, 2, 4, &mut rng(1));
    let mut short = good.clone();
    short.rewards.pop();
    assert!(matches!(
        agent.update(&short, 0.0),
        Err(AgentError::RolloutShape { field: "rewards", expected: 8, got: 7 })
    ));
    let mut bad_action = good.clone();
    bad_action.actions[5] = 3;
    assert!(matches!(
        agent.update(&bad_action, 0.0),
        Err(AgentError::InvalidAction { index: 5, action: 3, num_actions: 3 })
    ));
    assert!(matches!(agent.update(&good, 1.5), Err(AgentError::Progress(_))));
    assert_eq!(agent.updates_done(), 0);
    agent.update(&good, 1.0).unwrap();
    assert_eq!(agent.updates_done(), 1);
}

#[test]
fn a_non_finite_loss_rolls_the_whole_update_back() {
    let mut config = bandit_config();
    config.regularizers.batch_norm = true;
    config.ppo.normalize_advantages = false;
    config.ppo.minibatches = 8;
    let mut agent = Agent::new(&config, bandit_obs(), 3, 0).unwrap();
    let (mut rollout, _) = bandit_rollout(&agent, 8, 8, &mut rng(2));
    agent.update(&rollout, 0.0).unwrap();
    poisoned_update_rolls_back(&mut agent, &mut rollout);
    agent.update(&rollout, 0.0).unwrap();
}

/// Poisons one sample of `rollout` (sample 63's reward NaN): the minibatches without it step,
/// the one with it fails. Asserts the update fails part-way with a non-finite loss and leaves
/// the model's weights, batch-norm statistics and update count as they were; then heals the
/// sample.
fn poisoned_update_rolls_back(agent: &mut Agent, rollout: &mut Rollout) {
    let (before, updates) = (weights(agent), agent.updates_done());
    rollout.rewards[63] = f32::NAN;
    match agent.update(rollout, 0.0) {
        Err(AgentError::NonFinite { what: "loss", epoch, minibatch }) => {
            assert!(epoch > 0 || minibatch > 0, "some steps were applied before the failure");
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert_eq!(weights(agent), before, "weights and batch-norm statistics restored");
    assert_eq!(agent.updates_done(), updates);
    rollout.rewards[63] = 0.0;
}

#[test]
fn a_non_finite_loss_rolls_the_fused_learners_update_back() {
    // The MultiRoom conv net trains with the fused learner, which holds the weights and Adam's
    // state itself and writes the weights into the model after its last step.
    let mut config = AgentConfig::multiroom();
    config.ppo.normalize_advantages = false;
    config.ppo.minibatches = 8;
    let obs = ObsFormat::grid(7, 7, 3);
    let mut agent = Agent::new(&config, obs, ACTIONS, 0).unwrap();
    let mut twin = Agent::new(&config, obs, ACTIONS, 0).unwrap();
    assert!(agent.fused_isa().is_some(), "the fused learner trains this network");
    let (mut rollout, _) = bandit_rollout(&agent, 8, 8, &mut rng(2));
    agent.update(&rollout, 0.0).unwrap();
    twin.update(&rollout, 0.0).unwrap();
    poisoned_update_rolls_back(&mut agent, &mut rollout);
    // The next update goes on from the restored weights and Adam state, as the twin's does.
    agent.update(&rollout, 0.0).unwrap();
    twin.update(&rollout, 0.0).unwrap();
    assert!(weights(&agent) == weights(&twin), "the failed update left a trace");
}
