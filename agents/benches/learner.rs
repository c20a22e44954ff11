//! Learner speed: one PPO minibatch update (forward, backward, global-norm clip, Adam) at batch
//! 256 and rollout inference at batch 64, for the IMPALA-CNN, the MultiRoom net and the vision
//! encoder (CoinRun's agent with `encoder = vision`, 6 object boxes per frame).
//!
//! `cargo bench -p heldout-agents --bench learner` (add `--features tch` for LibTorch). The
//! MultiRoom nets run with both learners, the fused one (its instruction set in the group's
//! name; `HELDOUT_ISA=avx2` or `portable` picks a lesser one) and burn's generic graph.

use criterion::{Criterion, criterion_group, criterion_main};
use heldout_agents::{Learner, Observations};

#[path = "workload.rs"]
mod workload;

use workload::{Net, workload};

fn learner(c: &mut Criterion) {
    let backend = heldout_agents::backend::backend_name();
    let cases = [
        (Net::Impala, Learner::Auto),
        (Net::MultiRoom, Learner::Auto),
        (Net::MultiRoom, Learner::Generic),
        (Net::MultiRoomIbacSni, Learner::Auto),
        (Net::MultiRoomIbacSni, Learner::Generic),
        (Net::Vision, Learner::Auto),
    ];
    for (net, learner) in cases {
        let (mut agent, rollout, mut rng) = workload(net, learner, 256);
        // Which learner ran: `fused-avx512` (or `-avx2`, `-portable`), or `generic`.
        let ran = agent.fused_isa().map_or("generic".to_string(), |isa| format!("fused-{isa}"));
        let mut group = c.benchmark_group(format!("{backend}/{}/{ran}", net.name()));
        if let Net::Impala | Net::Vision = net {
            group.sample_size(10);
        }
        group.bench_function("update_b256", |b| b.iter(|| agent.update(&rollout, 0.0).unwrap()));
        let obs = Observations {
            bytes: &rollout.obs[..64 * agent.obs_format().len()],
            boxes: rollout.boxes().map(|boxes| &boxes[..64]),
        };
        group.bench_function("act_b64", |b| b.iter(|| agent.act(obs, &mut rng).unwrap()));
        group.finish();
    }
}

criterion_group!(benches, learner);
criterion_main!(benches);
