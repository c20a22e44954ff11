//! Times the learner's hot paths, for profiling (`perf record`) and quick comparisons:
//! one PPO minibatch update (forward, backward, Adam) at batch 256 and rollout inference at
//! batch 64, for the IMPALA-CNN (64x64x3), the MultiRoom net (11x11x3) or the vision encoder.
//!
//! `cargo run --release -p heldout-agents --example profile_update -- [impala|multiroom|vision] [iterations]`

use std::time::Instant;

#[path = "../benches/workload.rs"]
mod workload;

use heldout_agents::Observations;
use workload::{Net, workload};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let net = match args.get(1).map(String::as_str) {
        Some("multiroom") => Net::MultiRoom,
        Some("multiroom-ego-ibac-sni") => Net::MultiRoomIbacSni,
        Some("vision") => Net::Vision,
        _ => Net::Impala,
    };
    let iterations: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let (mut agent, rollout, mut rng) = workload(net, heldout_agents::Learner::Auto, 256);
    let act_obs = Observations {
        bytes: &rollout.obs[..64 * agent.obs_format().len()],
        boxes: rollout.boxes().map(|boxes| &boxes[..64]),
    };
    for i in 0..iterations {
        let t = Instant::now();
        agent.update(&rollout, 0.0).unwrap();
        let update = t.elapsed();
        let t = Instant::now();
        agent.act(act_obs, &mut rng).unwrap();
        println!("{} iteration {i}: update(256) {update:?}, act(64) {:?}", net.name(), t.elapsed());
    }
}
