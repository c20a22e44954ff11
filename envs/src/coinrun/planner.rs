//! A scripted CoinRun player: a weighted best-first search over the deterministic simulator
//! ([`World`] is cheap to clone), for pictures of a solved level and for tests of solvability.
//!
//! The search expands macro-actions (one of six moves held for [`HOLD`] steps), drops states
//! where the agent died, merges states on a coarse key (position, speed, time), and prefers
//! states whose elapsed time plus three times the remaining distance at full speed is small.
//! It reaches the coin on nearly every level (see `tests/coinrun_levels.rs`), but it is a
//! heuristic: `None` means "not found within the budget", not "unsolvable".

use std::collections::{BinaryHeap, HashSet};

use super::physics::MAX_SPEED;
use super::{CoinRun, Move, Outcome, World};

/// Steps each searched move is held for.
pub const HOLD: u32 = 2;

/// Node expansions [`plan`] allows the search (about 0.1 s on a slow core).
pub const DEFAULT_BUDGET: usize = 4_000;

/// The moves tried from every state, most promising first.
const MOVES: [Move; 6] = [Move::RIGHT, Move::RIGHT_JUMP, Move::NOOP, Move::JUMP, Move::LEFT, Move::LEFT_JUMP];

/// A searched state and how it was reached.
struct Node {
    world: World,
    /// The node this one was expanded from (the root points to itself).
    parent: usize,
    /// The move held from the parent.
    mv: Move,
    /// Steps the move was held (fewer than [`HOLD`] when the coin was reached early).
    steps: u32,
}

/// The moves that take `start` to the coin, one per step, found by expanding at most `budget`
/// states; `None` when the search ran out of budget or of states. The plan ignores any time
/// limit: its length is the number of steps it takes.
pub fn search(start: &World, budget: usize) -> Option<Vec<Move>> {
    let goal_x = start.level().coin.x as f32 + 0.5;
    let score = |w: &World| {
        let remaining = (goal_x - w.agent.x).abs() / MAX_SPEED;
        -((w.time as f32 + 3.0 * remaining) * 16.0) as i64
    };
    let key = |w: &World| {
        let a = &w.agent;
        ((a.x * 4.0) as i32, (a.y * 4.0) as i32, (a.vx * 10.0) as i32, (a.vy * 5.0) as i32, w.time / 8)
    };
    let mut nodes = vec![Node { world: start.clone(), parent: 0, mv: Move::NOOP, steps: 0 }];
    let mut open = BinaryHeap::from([(score(start), 0usize)]);
    let mut seen = HashSet::new();
    for _ in 0..budget {
        let (_, i) = open.pop()?;
        for mv in MOVES {
            let mut world = nodes[i].world.clone();
            let mut outcome = Outcome::Running;
            let mut steps = 0;
            while steps < HOLD && outcome == Outcome::Running {
                outcome = world.step(mv);
                steps += 1;
            }
            let node = Node { world, parent: i, mv, steps };
            match outcome {
                Outcome::ReachedCoin => return Some(unroll(&nodes, node)),
                Outcome::Died(_) => {}
                Outcome::Running => {
                    if seen.insert(key(&node.world)) {
                        open.push((score(&node.world), nodes.len()));
                        nodes.push(node);
                    }
                }
            }
        }
    }
    None
}

/// The moves from the root to `last`, one per step.
fn unroll(nodes: &[Node], last: Node) -> Vec<Move> {
    let mut held = vec![(last.mv, last.steps)];
    let mut i = last.parent;
    while i != 0 {
        held.push((nodes[i].mv, nodes[i].steps));
        i = nodes[i].parent;
    }
    held.iter().rev().flat_map(|&(mv, steps)| std::iter::repeat_n(mv, steps as usize)).collect()
}

/// Action indices (in `env`'s action set) that complete `env`'s current episode from its current
/// state before the time limit, searched with [`DEFAULT_BUDGET`]; `None` outside an episode
/// (before the first reset, after its end) or when no such plan was found.
pub fn plan(env: &CoinRun) -> Option<Vec<usize>> {
    let world = env.world.as_ref().filter(|_| !env.done)?;
    let moves = search(world, DEFAULT_BUDGET)?;
    let steps_left = env.options().max_steps.saturating_sub(env.steps()) as usize;
    if moves.len() > steps_left {
        return None;
    }
    let set = env.options().action_set;
    moves.into_iter().map(|mv| set.encode(mv)).collect()
}
