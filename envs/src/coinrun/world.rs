//! The game state of an episode and its step, without any drawing: cheap to clone, so planners
//! can search over it.

use std::sync::Arc;

use super::entities::{Monster, coin_rect, saw_hitbox};
use super::generate::{Level, SPAWN, Tile};
use super::options::Move;
use super::physics::Body;

/// What killed the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hazard {
    /// Touched lava.
    Lava,
    /// Touched a saw blade.
    Saw,
    /// Touched a walking monster.
    Monster,
}

/// What a step led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The episode goes on.
    Running,
    /// The agent touched the coin.
    ReachedCoin,
    /// The agent died.
    Died(Hazard),
}

/// The state of an episode.
#[derive(Debug, Clone)]
pub struct World {
    level: Arc<Level>,
    /// The agent.
    pub agent: Body,
    /// Which way the agent looks.
    pub facing_right: bool,
    /// The monsters.
    pub monsters: Vec<Monster>,
    /// Steps taken.
    pub time: u32,
}

impl World {
    /// The start of an episode on `level`.
    pub fn new(level: Arc<Level>) -> Self {
        let monsters = level.monsters.clone();
        Self { level, agent: Body::at(SPAWN.0, SPAWN.1), facing_right: true, monsters, time: 0 }
    }

    /// The level being played.
    pub fn level(&self) -> &Level {
        &self.level
    }

    /// One step under `mv`: the agent moves, then the monsters; then the coin is checked before
    /// the hazards.
    pub fn step(&mut self, mv: Move) -> Outcome {
        self.time += 1;
        self.agent.step(&self.level.grid, mv);
        if mv.dx != 0 {
            self.facing_right = mv.dx > 0;
        }
        for m in &mut self.monsters {
            m.step();
        }
        self.outcome()
    }

    fn outcome(&self) -> Outcome {
        let body = self.agent.rect();
        let level = &*self.level;
        if body.overlaps(&coin_rect(level.coin)) {
            return Outcome::ReachedCoin;
        }
        let in_lava = body.rows().any(|r| body.cols().any(|c| level.grid.get(c, r) == Tile::Lava));
        if in_lava {
            Outcome::Died(Hazard::Lava)
        } else if level.saws.iter().any(|&s| body.overlaps(&saw_hitbox(s))) {
            Outcome::Died(Hazard::Saw)
        } else if self.monsters.iter().any(|m| body.overlaps(&m.rect())) {
            Outcome::Died(Hazard::Monster)
        } else {
            Outcome::Running
        }
    }
}
