//! The learner workloads shared by the criterion bench and the profiling example: an agent
//! with one epoch of one minibatch (so `update` is one forward, backward and Adam step) and a
//! random rollout of the requested size.

use heldout_agents::{ActOutput, Agent, AgentConfig, ObsFormat, Rollout};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The networks measured.
#[derive(Debug, Clone, Copy)]
pub enum Net {
    /// CoinRun's IMPALA-CNN on 64x64x3 frames.
    Impala,
    /// MultiRoom's conv net on 11x11x3 grids.
    MultiRoom,
}

impl Net {
    /// Short name for labels.
    pub fn name(self) -> &'static str {
        match self {
            Net::Impala => "impala",
            Net::MultiRoom => "multiroom",
        }
    }
}

/// An agent whose `update` is a single minibatch step, and a random rollout of `samples`.
pub fn workload(net: Net, samples: usize) -> (Agent, Rollout, StdRng) {
    let (mut config, obs) = match net {
        Net::Impala => (AgentConfig::coinrun(), ObsFormat::rgb(64, 64)),
        Net::MultiRoom => (AgentConfig::multiroom(), ObsFormat::grid(11, 11, 3)),
    };
    config.ppo.epochs = 1;
    config.ppo.minibatches = 1;
    let agent = Agent::new(&config, obs, 7, 0).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let obs_bytes: Vec<u8> = (0..samples * obs.len())
        .map(|_| {
            rng.random_range(
                0..=match net {
                    Net::Impala => 255,
                    Net::MultiRoom => 10,
                },
            )
        })
        .collect();
    let act: ActOutput = agent.act(&obs_bytes, &mut rng).unwrap();
    let rewards: Vec<f32> = (0..samples).map(|_| rng.random()).collect();
    let mut rollout = Rollout::with_capacity(1, samples, &obs);
    rollout.push(&obs_bytes, &act, &rewards, &vec![false; samples]);
    rollout.next_values = vec![0.0; samples];
    (agent, rollout, rng)
}
