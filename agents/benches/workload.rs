//! The learner workloads shared by the criterion bench and the profiling example: an agent
//! with one epoch of one minibatch (so `update` is one forward, backward and Adam step) and a
//! random rollout of the requested size.

use heldout_agents::vision::{BoxXyxy, LabelledBox};
use heldout_agents::{
    ActOutput, Agent, AgentConfig, BottleneckConfig, EncoderConfig, Learner, ObsFormat, Observations, Rollout,
    VisionConfig,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The allocator of the `heldout` binary, so that the learner is measured as it trains.
#[global_allocator]
static ALLOCATOR: heldout_agents::allocator::Allocator = heldout_agents::allocator::Allocator;

/// The networks measured.
#[derive(Debug, Clone, Copy)]
pub enum Net {
    /// CoinRun's IMPALA-CNN on 64x64x3 frames.
    Impala,
    /// MultiRoom's conv net on 11x11x3 grids (no regularizer).
    MultiRoom,
    /// The `multiroom` preset's agent: the conv net on the egocentric 7x7x3 view with the
    /// bottleneck (64 units) and SNI lambda 0.5.
    MultiRoomIbacSni,
    /// CoinRun's agent with the `vision` encoder (default options) on 64x64x3 frames with
    /// [`OBJECTS`] object boxes each.
    Vision,
}

/// Object boxes per frame of the vision workload (CoinRun frames show about 3 to 8).
pub const OBJECTS: usize = 6;

impl Net {
    /// Short name for labels.
    pub fn name(self) -> &'static str {
        match self {
            Net::Impala => "impala",
            Net::MultiRoom => "multiroom",
            Net::MultiRoomIbacSni => "multiroom-ego-ibac-sni",
            Net::Vision => "vision",
        }
    }
}

/// An agent whose `update` is a single minibatch step, trained by `learner`, and a random
/// rollout of `samples` (with random object boxes of 4 to 12 pixels for the vision encoder).
pub fn workload(net: Net, learner: Learner, samples: usize) -> (Agent, Rollout, StdRng) {
    heldout_agents::allocator::retain_freed_memory();
    let (mut config, obs) = match net {
        Net::Impala => (AgentConfig::coinrun(), ObsFormat::rgb(64, 64)),
        Net::MultiRoom => (AgentConfig::multiroom(), ObsFormat::grid(11, 11, 3)),
        Net::MultiRoomIbacSni => {
            let mut config = AgentConfig::multiroom();
            config.regularizers.bottleneck = Some(BottleneckConfig { beta: 1e-6, rho_shift: 0.0 });
            config.sni_lambda = Some(0.5);
            (config, ObsFormat::grid(7, 7, 3))
        }
        Net::Vision => {
            let mut config = AgentConfig::coinrun();
            config.encoder = EncoderConfig::Vision(VisionConfig::default());
            (config, ObsFormat::rgb(64, 64))
        }
    };
    config.learner = learner;
    config.ppo.epochs = 1;
    config.ppo.minibatches = 1;
    let agent = Agent::new(&config, obs, 7, 0).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let obs_bytes: Vec<u8> = (0..samples * obs.len())
        .map(|_| {
            rng.random_range(
                0..=match net {
                    Net::Impala | Net::Vision => 255,
                    Net::MultiRoom | Net::MultiRoomIbacSni => 10,
                },
            )
        })
        .collect();
    let boxes = matches!(net, Net::Vision).then(|| (0..samples).map(|_| random_boxes(&mut rng)).collect::<Vec<_>>());
    let observations = Observations { bytes: &obs_bytes, boxes: boxes.as_deref() };
    let act: ActOutput = agent.act(observations, &mut rng).unwrap();
    let rewards: Vec<f32> = (0..samples).map(|_| rng.random()).collect();
    let mut rollout = Rollout::with_capacity(1, samples, &obs);
    rollout.push(observations, &act, &rewards, &vec![false; samples]);
    rollout.next_values = vec![0.0; samples];
    (agent, rollout, rng)
}

/// [`OBJECTS`] boxes of 4 to 12 pixels anywhere in a 64x64 frame, of random classes.
fn random_boxes(rng: &mut StdRng) -> Vec<LabelledBox> {
    (0..OBJECTS)
        .map(|_| {
            let side = rng.random_range(4.0..12.0f32);
            let (x, y) = (rng.random_range(0.0..64.0 - side), rng.random_range(0.0..64.0 - side));
            LabelledBox { class: rng.random_range(0..7), bbox: BoxXyxy::new(x, y, x + side, y + side) }
        })
        .collect()
}
