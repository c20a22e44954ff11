//! CoinRun's options (procgen's names where procgen has the option) and its two action sets.

use serde::{Deserialize, Serialize};

use crate::EnvError;

/// Which family of levels to draw, as procgen's `distribution_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributionMode {
    /// No walking monsters on flat sections (pits may still hold them), as procgen's easy mode.
    Easy,
    /// Walking monsters on flat sections too, as the original CoinRun.
    #[default]
    Hard,
}

/// The actions the agent may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSet {
    /// The original CoinRun's 7 actions: noop, right, left, jump, right+jump, left+jump, down.
    #[default]
    Original,
    /// procgen's 15 actions: the 9 combinations of {left, none, right} x {down, none, up}
    /// (index `3 * (dx + 1) + (dy + 1)`), then 6 keys that do nothing in CoinRun.
    Procgen,
}

/// A movement command: horizontal direction `dx` and vertical `dy` (+1 jump, -1 down), each in
/// -1..=1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Move {
    /// -1 left, 0 none, +1 right.
    pub dx: i8,
    /// -1 down (drop through a crate), 0 none, +1 jump.
    pub dy: i8,
}

impl Move {
    /// Stand still.
    pub const NOOP: Move = Move { dx: 0, dy: 0 };
    /// Run right.
    pub const RIGHT: Move = Move { dx: 1, dy: 0 };
    /// Run left.
    pub const LEFT: Move = Move { dx: -1, dy: 0 };
    /// Jump in place.
    pub const JUMP: Move = Move { dx: 0, dy: 1 };
    /// Jump while running right.
    pub const RIGHT_JUMP: Move = Move { dx: 1, dy: 1 };
    /// Jump while running left.
    pub const LEFT_JUMP: Move = Move { dx: -1, dy: 1 };
    /// Drop through a crate.
    pub const DOWN: Move = Move { dx: 0, dy: -1 };
}

const ORIGINAL_MOVES: [Move; 7] =
    [Move::NOOP, Move::RIGHT, Move::LEFT, Move::JUMP, Move::RIGHT_JUMP, Move::LEFT_JUMP, Move::DOWN];
const ORIGINAL_NAMES: [&str; 7] = ["noop", "right", "left", "jump", "right_jump", "left_jump", "down"];
const PROCGEN_NAMES: [&str; 15] = [
    "left_down",
    "left",
    "left_up",
    "down",
    "noop",
    "up",
    "right_down",
    "right",
    "right_up",
    "key_d",
    "key_a",
    "key_w",
    "key_s",
    "key_q",
    "key_e",
];

impl ActionSet {
    /// The name of each action, by index.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            ActionSet::Original => &ORIGINAL_NAMES,
            ActionSet::Procgen => &PROCGEN_NAMES,
        }
    }

    /// Number of actions.
    pub fn len(self) -> usize {
        self.names().len()
    }

    /// Always false: both sets have actions.
    pub fn is_empty(self) -> bool {
        false
    }

    /// The movement of action `action`, or `None` when it is out of range.
    pub fn decode(self, action: usize) -> Option<Move> {
        match self {
            ActionSet::Original => ORIGINAL_MOVES.get(action).copied(),
            ActionSet::Procgen if action < 9 => Some(Move { dx: (action / 3) as i8 - 1, dy: (action % 3) as i8 - 1 }),
            ActionSet::Procgen => (action < PROCGEN_NAMES.len()).then_some(Move::NOOP),
        }
    }

    /// The first action whose movement is `mv`, or `None` when the set has no such action
    /// (the original set cannot move down while running, for one).
    pub fn encode(self, mv: Move) -> Option<usize> {
        (0..self.len()).find(|&a| self.decode(a) == Some(mv))
    }
}

/// CoinRun's options: one plain struct, every field with a default (TOML/JSON: missing fields
/// take the default, unknown fields are an error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoinRunOptions {
    /// Easy (no monsters on flat sections) or hard levels.
    pub distribution_mode: DistributionMode,
    /// Smallest difficulty a level may draw, in 1..=3.
    pub min_difficulty: u32,
    /// Largest difficulty a level may draw, in 1..=3 (set both to 3 for the hardest levels only).
    pub max_difficulty: u32,
    /// Draw a procedural background picture behind the level (else a plain dark colour).
    pub use_backgrounds: bool,
    /// Use one fixed look for the player, ground, crates and monsters instead of drawing them
    /// from the level seed.
    pub restrict_themes: bool,
    /// Paint the agent's horizontal and vertical speed as two grey squares in the top-left
    /// corner, as the original CoinRun and procgen's option do.
    pub paint_vel_info: bool,
    /// Follow the agent with a camera about 13 tiles wide (else show the whole 64x64-tile level
    /// at one pixel per tile).
    pub center_agent: bool,
    /// The actions the agent may take.
    pub action_set: ActionSet,
    /// Steps after which an episode is truncated.
    pub max_steps: u32,
    /// Fraction of levels whose coin reward is negated (random labels, see [`crate::label`]);
    /// 0 = none.
    pub label_noise: f64,
}

impl Default for CoinRunOptions {
    fn default() -> Self {
        Self {
            distribution_mode: DistributionMode::Hard,
            min_difficulty: 1,
            max_difficulty: 3,
            use_backgrounds: true,
            restrict_themes: false,
            paint_vel_info: false,
            center_agent: true,
            action_set: ActionSet::Original,
            max_steps: 1000,
            label_noise: 0.0,
        }
    }
}

/// The highest difficulty a level can have.
pub const MAX_DIFFICULTY: u32 = 3;

impl CoinRunOptions {
    /// Checks that the options can build levels.
    pub fn validate(&self) -> Result<(), EnvError> {
        let bad = |msg: String| Err(EnvError::InvalidOptions(msg));
        crate::label::check(self.label_noise)?;
        for (name, d) in [("min_difficulty", self.min_difficulty), ("max_difficulty", self.max_difficulty)] {
            if !(1..=MAX_DIFFICULTY).contains(&d) {
                return bad(format!("{name} = {d}, must be in 1..={MAX_DIFFICULTY}"));
            }
        }
        if self.min_difficulty > self.max_difficulty {
            return bad(format!(
                "min_difficulty = {} is above max_difficulty = {}",
                self.min_difficulty, self.max_difficulty
            ));
        }
        if self.max_steps == 0 {
            return bad("max_steps must be at least 1".into());
        }
        Ok(())
    }
}
