//! MultiRoom: a MiniGrid-like gridworld of rooms chained by closed doors.
//!
//! # Description
//! A chain of rooms on a square grid, each connected to the next by a closed, unlocked door
//! that the agent opens with `toggle`; each door's colour differs from the previous door's (as
//! in MiniGrid), so all doors differ up to three rooms. The agent starts in the first room with a random
//! heading; the green goal square lies in the last room. Each level is a pure function of its
//! seed (see `generate.rs` for the random walk that places the rooms). The default options
//! are the variant of Igl et al. (2019): 1 to 3 rooms (uniform), room sides 4 to 6 walls
//! included, an 11 x 11 grid, full-grid observations. [`MultiRoomOptions::n2_s4`],
//! [`MultiRoomOptions::n4_s5`] and [`MultiRoomOptions::n6`] are MiniGrid's registered variants.
//!
//! # Actions
//! Seven, MiniGrid's ([`Action`]): 0 `left`, 1 `right` (turn), 2 `forward`, 3 `pickup`,
//! 4 `drop`, 5 `toggle` (open or close the door in front), 6 `done`. `pickup`, `drop` and `done`
//! do nothing; `forward` into a wall or a closed door does nothing.
//!
//! # Observation
//! Bytes, row-major `[height, width, channels]` (note: MiniGrid's arrays are `[x, y]`, ours are
//! `[y, x]`, i.e. transposed).
//! - [`MultiRoomObs::Grid`] (default, the paper's): `grid_size x grid_size x 3`, each cell
//!   `(object, colour, state)` with MiniGrid's codes ([`Object`], [`Colour`], [`DoorState`]):
//!   empty `(1, 0, 0)` (also the void outside the rooms), wall `(2, 5, 0)`, door
//!   `(4, colour, 0 open / 1 closed)`, goal `(8, 1, 0)`, and the agent's cell
//!   `(10, 0, heading)` as MiniGrid's `FullyObsWrapper` writes it ([`Direction`]: 0 right,
//!   1 down, 2 left, 3 up). `high` = 10.
//! - [`MultiRoomObs::Egocentric`]: MiniGrid's default 7 x 7 x 3 view: row `r`, column `c` is
//!   the cell `6 - r` ahead and `c - 3` to the right of the agent, which sits at the bottom
//!   middle facing up and reads as empty. Cells off the grid are walls; cells hidden behind
//!   walls or closed doors (MiniGrid's `process_vis`) are unseen `(0, 0, 0)`. `high` = 8.
//! - [`MultiRoomObs::Rgb`]: the whole grid as a `grid_size * tile_size` square RGB picture
//!   (MiniGrid's `RGBImgObsWrapper`, drawn by this crate; see `rgb.rs` for the tiles). `info.objects`
//!   then carries the pixel boxes of the agent, the goal and each door.
//!
//! Both code observations were checked against MiniGrid 3.2.0 (`gen_obs` and
//! `FullyObsWrapper`) on 10,935 states of 300 levels rebuilt in MiniGrid: identical up to the
//! transposition.
//!
//! # Reward
//! `1 - 0.9 * steps / max_steps` on the step that reaches the goal (`steps` counts that step),
//! 0 otherwise. With `label_noise = p`, a fraction p of levels (a hash of the level seed,
//! [`crate::label`]) pays `-(1 - 0.9 * steps / max_steps)` for the goal instead: reaching it
//! still ends the episode, and the right behaviour is to avoid it until the time limit;
//! `info.negated` says which kind of level is played (nothing in the observation does).
//!
//! # Episode end
//! Terminated when the agent steps onto the goal (`info.level_complete`); truncated (not
//! terminated) after `max_steps` steps, by default `20 * max_rooms`. Never both. Stepping an
//! ended episode, or before the first reset, is [`EnvError::NeedsReset`].
//!
//! # Text picture
//! [`Env::render_text`]: `#` wall, `.` empty, `*` goal, doors as their colour's letter (capital
//! closed, lowercase open; see [`Colour::letter`]), the agent as `>v<^`.
//!
//! # Scripted play
//! [`planner::plan`] gives the actions that walk a shortest path of cells to the goal from the
//! current state.

mod action;
mod generate;
mod grid;
mod observe;
mod options;
pub mod planner;
mod rgb;
mod text;
mod world;

pub use action::Action;
pub use grid::{Colour, Direction, DoorState, Object};
pub use observe::VIEW_SIZE;
pub use options::{MAX_GRID_SIZE, MAX_TILE_SIZE, MIN_ROOM_SIDE, MIN_TILE_SIZE, MultiRoomObs, MultiRoomOptions};

use crate::env::{check_action, check_obs_buffer};
use crate::{ActionSpace, Env, EnvError, Info, ObsSpace, RgbFrame, Transition};
use observe::Observer;
use rgb::Painter;
use world::World;

/// Pixels per cell of [`Env::render`] when the observation is not a picture.
const RENDER_TILE: usize = 16;

/// The MultiRoom environment; see the [module documentation](self) for its spec sheet.
#[derive(Debug, Clone)]
pub struct MultiRoom {
    options: MultiRoomOptions,
    max_steps: u32,
    obs_len: usize,
    world: World,
    observer: Observer,
    level_seed: u64,
    /// The level's goal reward is negated (random labels).
    negated: bool,
    steps: u32,
    running: bool,
}

impl MultiRoom {
    /// A MultiRoom env, after checking `options` ([`MultiRoomOptions::validate`]).
    pub fn new(options: MultiRoomOptions) -> Result<Self, EnvError> {
        options.validate()?;
        let obs_len = Observer::space(options.obs, options.grid_size).len();
        Ok(Self {
            max_steps: options.time_limit(),
            obs_len,
            world: World::new(options.grid_size),
            observer: Observer::new(options.obs, options.grid_size),
            options,
            level_seed: 0,
            negated: false,
            steps: 0,
            running: false,
        })
    }

    /// The options this env was built with.
    pub fn options(&self) -> &MultiRoomOptions {
        &self.options
    }

    /// The number of rooms of the current level (0 before the first reset).
    pub fn num_rooms(&self) -> usize {
        self.world.rooms.len()
    }

    /// The time limit in steps.
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }

    /// Steps taken in the current episode.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    fn info(&self, level_complete: bool) -> Info {
        Info {
            level_seed: self.level_seed,
            level_complete,
            objects: self.observer.boxes(&self.world),
            negated: self.negated,
        }
    }
}

impl Env for MultiRoom {
    fn observation_space(&self) -> ObsSpace {
        Observer::space(self.options.obs, self.options.grid_size)
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace { names: Action::ALL.iter().map(|a| a.name()).collect() }
    }

    fn reset_into(&mut self, level_seed: u64, obs: &mut [u8]) -> Result<Info, EnvError> {
        check_obs_buffer(obs, self.obs_len)?;
        self.running = false;
        generate::generate(&mut self.world, &self.options, level_seed)?;
        self.level_seed = level_seed;
        self.negated = crate::label::is_negated(level_seed, self.options.label_noise);
        self.steps = 0;
        self.running = true;
        self.observer.reset(&self.world);
        self.observer.write(&self.world, obs);
        Ok(self.info(false))
    }

    fn step_into(&mut self, action: usize, obs: &mut [u8]) -> Result<Transition, EnvError> {
        check_action(action, Action::ALL.len())?;
        check_obs_buffer(obs, self.obs_len)?;
        if !self.running {
            return Err(EnvError::NeedsReset);
        }
        let left = self.world.agent;
        let toggled = self.world.act(Action::ALL[action]);
        self.steps += 1;
        let terminated = self.world.at_goal();
        let truncated = !terminated && self.steps >= self.max_steps;
        self.running = !(terminated || truncated);
        let mut reward = if terminated { 1.0 - 0.9 * (self.steps as f32 / self.max_steps as f32) } else { 0.0 };
        if self.negated {
            reward = -reward;
        }
        self.observer.update(&self.world, left, toggled);
        self.observer.write(&self.world, obs);
        Ok(Transition { reward, terminated, truncated, info: self.info(terminated) })
    }

    fn render(&self) -> RgbFrame {
        let (side, data) = match &self.observer {
            Observer::Rgb(painter) => (painter.side(), painter.image().to_vec()),
            Observer::Grid { .. } | Observer::Egocentric => {
                let mut painter = Painter::new(RENDER_TILE, self.options.grid_size);
                painter.paint_all(&self.world);
                (painter.side(), painter.image().to_vec())
            }
        };
        RgbFrame { width: side, height: side, data }
    }

    fn render_text(&self) -> String {
        text::render(&self.world)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    use super::*;

    #[test]
    fn incremental_observations_match_fresh_encodings() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for obs in [MultiRoomObs::Grid, MultiRoomObs::Rgb { tile_size: 5 }] {
            let mut env = MultiRoom::new(MultiRoomOptions::default().with_obs(obs)).unwrap();
            let (mut kept, mut fresh) = (vec![0; env.obs_len], vec![0; env.obs_len]);
            let mut toggles = 0;
            for seed in 0..200 {
                env.reset_into(seed, &mut kept).unwrap();
                loop {
                    let doors = env.world.grid.cells().to_vec();
                    let t = env.step_into(rng.random_range(0..Action::ALL.len()), &mut kept).unwrap();
                    toggles += usize::from(doors != env.world.grid.cells());
                    let mut observer = Observer::new(obs, env.options.grid_size);
                    observer.reset(&env.world);
                    observer.write(&env.world, &mut fresh);
                    assert_eq!(kept, fresh, "{obs:?}, seed {seed}, step {}", env.steps);
                    if t.terminated || t.truncated {
                        break;
                    }
                }
            }
            assert!(toggles > 10, "only {toggles} doors toggled");
        }
    }
}
