//! CoinRun: a procedurally generated platformer (after OpenAI's CoinRun and procgen's
//! `coinrun`), drawn procedurally with no asset files.
//!
//! # Spec sheet
//!
//! - **Level**: a pure function of the level seed and the options ([`Level::generate`]). A
//!   64x64-tile world; the agent spawns on the left; a chain of 1 to 5 sections follows
//!   (`difficulty + rand(difficulty)`, difficulty drawn in `min_difficulty..=max_difficulty`),
//!   each flat or a pit, each at a new height (rises of at most [`physics::max_climb`] tiles);
//!   pits are at most [`physics::max_gap`] tiles wide, between two ledges, with a floating
//!   stepping stone when wider than 4, and hold lava, saw blades or walking monsters (one kind
//!   per level). Flat sections may hold a saw, a walking monster (hard mode only) and crate
//!   stacks (1 to 3 crates, platforms from above that the agent walks through and drops through
//!   with "down"). The coin stands at the end, before the right wall. Easy and hard levels of
//!   one seed have the same geometry; easy ones lack the monsters of flat sections.
//! - **Look**: drawn from the level seed ([`Theme`]): player colour, ground colours and
//!   pattern, crate wood, monster shape and colours, and (with `use_backgrounds`) one of six
//!   procedural backgrounds with random colours. `restrict_themes` fixes everything but the
//!   background.
//! - **Actions**: [`ActionSet::Original`] (default, 7): noop, right, left, jump, right+jump,
//!   left+jump, down. [`ActionSet::Procgen`] (15): `3 * (dx + 1) + (dy + 1)` for dx, dy in
//!   -1..=1, then 6 keys that do nothing. Jumps start only when standing.
//! - **Physics** ([`physics`], tiles per step): gravity 0.2; a jump sets the vertical speed to
//!   1.5 (also its bound); horizontal speed at most 0.5; on the ground
//!   `vx <- 0.8 vx + 0.1 dx` (below 0.1 it stops), in the air `vx <- 0.97 vx + 0.03 dx` (air
//!   control 0.15 of the mix rate 0.2). Moves are split into sub-steps of at most 0.25 tiles
//!   against the tiles, so nothing is tunnelled through. The agent's hitbox is 0.8 x 1.2 tiles.
//!   Monsters walk at 0.15, turning at walls and ledges.
//! - **Observation**: 64x64x3 RGB bytes. With `center_agent` (default) the camera follows the
//!   agent at 5 pixels per tile (12.8 tiles across); without it the whole level is shown at one
//!   pixel per tile. The background is fixed to the world. `paint_vel_info` paints two grey
//!   squares (horizontal, vertical speed) in the top-left corner.
//! - **Reward**: +10 on touching the coin, 0 otherwise. With `label_noise = p`, a fraction p of
//!   levels (a hash of the level seed, [`crate::label`]) pays -10 for the coin instead:
//!   touching it still ends the episode, and the right behaviour is to avoid it until the time
//!   limit; `info.negated` says which kind of level is played (nothing in the observation does).
//! - **Termination**: touching the coin (`info.level_complete = true`; checked first), or
//!   touching lava, a saw or a monster (reward 0). **Truncation**: after `max_steps` steps
//!   (default 1000) when not terminated on that step; never both.
//! - **Info**: `objects` holds the screen boxes (observation pixels, clipped, off-screen ones
//!   left out) of the agent, monsters, coin ([`crate::ObjectClass::Goal`]), saws, lava pools and
//!   crates.
//! - **Render**: [`Env::render`] draws the observation's view at 4x the resolution (256x256 RGB)
//!   from the same shapes with smooth edges, for people; [`Env::render_text`] is the level as
//!   characters (see [`text`]).
//! - **Scripted play**: [`planner::plan`] searches the simulator for actions that reach the
//!   coin from the current state.
//! - **Errors**: an action out of range is [`EnvError::InvalidAction`]; a step before the first
//!   reset or after the episode ended is [`EnvError::NeedsReset`].
//!
//! Differences from the originals: jumps are procgen's (full strength at once, not the
//! original's charged spring); backgrounds, sprites and colours are procedural; themes are
//! drawn from the level seed in every mode (procgen fixes them in its easy mode); one monster
//! look per level; timeouts are truncations, not deaths.

mod background;
mod draw;
pub mod entities;
pub mod generate;
mod options;
pub mod physics;
pub mod planner;
mod rng;
mod sprites;
pub mod text;
pub mod theme;
pub mod world;

pub use entities::Monster;
pub use generate::{Danger, Level, Pit, Section, SectionKind, Tile, TileGrid, TilePos, TileRect};
pub use options::{ActionSet, CoinRunOptions, DistributionMode, MAX_DIFFICULTY, Move};
pub use theme::Theme;
pub use world::{Hazard, Outcome, World};

use draw::{Painter, Screen, TileBounds, View};
use generate::{LEVEL_HEIGHT, LEVEL_WIDTH};

use crate::env::check_obs_buffer;
use crate::{ActionSpace, Env, EnvError, Info, ObjectBox, ObsSpace, RgbFrame, Transition};

/// Observation side in pixels.
pub const OBS_SIZE: usize = 64;
/// Pixels per tile with the following camera (64 / 5 = 12.8 tiles across).
pub const TILE_PIXELS: usize = 5;
/// How many times larger [`Env::render`]'s picture is than the observation.
pub const RENDER_ZOOM: usize = 4;
/// Reward for the coin.
pub const COIN_REWARD: f32 = 10.0;
/// Tiles painted beyond the reach of the camera's centre on every side.
const VIEW_MARGIN: i32 = 6;
/// Headroom painted above the highest section: crates, a jump, half a screen.
const PAINTED_HEADROOM: i32 = 17;

/// The CoinRun environment. See the [module documentation](self) for the spec sheet.
#[derive(Debug, Clone)]
pub struct CoinRun {
    options: CoinRunOptions,
    world: Option<World>,
    painter: Painter,
    steps: u32,
    done: bool,
    /// The level's coin reward is negated (random labels).
    negated: bool,
}

impl CoinRun {
    /// A CoinRun env; fails on invalid options.
    pub fn new(options: CoinRunOptions) -> Result<Self, EnvError> {
        options.validate()?;
        Ok(Self { options, world: None, painter: Painter::default(), steps: 0, done: true, negated: false })
    }

    /// The options.
    pub fn options(&self) -> &CoinRunOptions {
        &self.options
    }

    /// The game state, after the first reset: clone it to search or plan.
    pub fn world(&self) -> Option<&World> {
        self.world.as_ref()
    }

    /// Steps taken in the current episode.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    fn view(&self) -> View {
        if self.options.center_agent { View::Follow } else { View::Fixed }
    }

    fn obs_scale(&self) -> usize {
        if self.options.center_agent { TILE_PIXELS } else { 1 }
    }

    /// The tiles painted for observations: everything the camera can see.
    fn painted_bounds(&self, level: &Level) -> TileBounds {
        if !self.options.center_agent {
            return TileBounds { x0: 0, y0: 0, x1: LEVEL_WIDTH, y1: LEVEL_HEIGHT };
        }
        TileBounds {
            x0: -VIEW_MARGIN,
            y0: -VIEW_MARGIN,
            x1: (level.coin.x + 2 + VIEW_MARGIN).min(LEVEL_WIDTH + VIEW_MARGIN),
            y1: (level.max_height() + PAINTED_HEADROOM).min(LEVEL_HEIGHT + VIEW_MARGIN),
        }
    }

    fn observe(&mut self, world: &World, obs: &mut [u8]) -> Vec<ObjectBox> {
        let mut objects = Vec::with_capacity(2 + world.monsters.len() + world.level().saws.len());
        let mut screen = Screen { data: obs, width: OBS_SIZE, height: OBS_SIZE };
        let view = self.view();
        self.painter.draw(world, view, &mut screen, self.options.paint_vel_info, Some(&mut objects));
        objects
    }
}

impl Env for CoinRun {
    fn observation_space(&self) -> ObsSpace {
        ObsSpace::rgb(OBS_SIZE, OBS_SIZE)
    }

    fn action_space(&self) -> ActionSpace {
        ActionSpace { names: self.options.action_set.names().to_vec() }
    }

    fn reset_into(&mut self, level_seed: u64, obs: &mut [u8]) -> Result<Info, EnvError> {
        check_obs_buffer(obs, OBS_SIZE * OBS_SIZE * 3)?;
        let level = Level::generate(level_seed, &self.options);
        let (scale, bounds) = (self.obs_scale(), self.painted_bounds(&level));
        self.painter.prepare(&level, scale, bounds, 1);
        let world = World::new(level.shared());
        let objects = self.observe(&world, obs);
        self.world = Some(world);
        self.steps = 0;
        self.done = false;
        self.negated = crate::label::is_negated(level_seed, self.options.label_noise);
        Ok(Info { level_seed, level_complete: false, objects, negated: self.negated })
    }

    fn step_into(&mut self, action: usize, obs: &mut [u8]) -> Result<Transition, EnvError> {
        let set = self.options.action_set;
        let mv = set.decode(action).ok_or(EnvError::InvalidAction { action, num_actions: set.len() })?;
        check_obs_buffer(obs, OBS_SIZE * OBS_SIZE * 3)?;
        let mut world = match self.world.take() {
            Some(w) if !self.done => w,
            other => {
                self.world = other;
                return Err(EnvError::NeedsReset);
            }
        };
        let outcome = world.step(mv);
        self.steps += 1;
        let level_complete = outcome == Outcome::ReachedCoin;
        let terminated = outcome != Outcome::Running;
        let truncated = !terminated && self.steps >= self.options.max_steps;
        self.done = terminated || truncated;
        let objects = self.observe(&world, obs);
        let info = Info { level_seed: world.level().seed, level_complete, objects, negated: self.negated };
        self.world = Some(world);
        let coin = if self.negated { -COIN_REWARD } else { COIN_REWARD };
        Ok(Transition { reward: if level_complete { coin } else { 0.0 }, terminated, truncated, info })
    }

    fn render(&self) -> RgbFrame {
        let side = OBS_SIZE * RENDER_ZOOM;
        let mut data = vec![0; side * side * 3];
        if let Some(world) = &self.world {
            let bounds = if self.options.center_agent {
                let half = (OBS_SIZE / TILE_PIXELS / 2) as i32 + 2;
                let (cx, cy) = (world.agent.x as i32, world.agent.y as i32);
                TileBounds { x0: cx - half, y0: cy - half, x1: cx + half + 2, y1: cy + half + 2 }
            } else {
                self.painted_bounds(world.level())
            };
            let mut painter = Painter::default();
            painter.prepare(world.level(), self.obs_scale() * RENDER_ZOOM, bounds, 3);
            let mut screen = Screen { data: &mut data, width: side, height: side };
            painter.draw(world, self.view(), &mut screen, self.options.paint_vel_info, None);
        }
        RgbFrame { width: side, height: side, data }
    }

    fn render_text(&self) -> String {
        self.world.as_ref().map_or_else(|| "(not reset)\n".to_string(), text::render)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_stays_inside_the_painted_canvas() {
        for center_agent in [true, false] {
            let mut env = CoinRun::new(CoinRunOptions { center_agent, ..Default::default() }).unwrap();
            let mut obs = vec![0; OBS_SIZE * OBS_SIZE * 3];
            for seed in 0..300 {
                env.reset_into(seed, &mut obs).unwrap();
                // Jump right, and now and then stand still or go left, to visit high places.
                for t in 0..400u64 {
                    let action = match (seed + t / 13) % 5 {
                        0 => 0,
                        1 => 5,
                        _ => 4,
                    };
                    let s = env.step_into(action, &mut obs).unwrap();
                    let world = env.world().unwrap();
                    assert!(env.painter.covers(world, env.view(), OBS_SIZE, OBS_SIZE), "seed {seed} step {t}");
                    if s.terminated || s.truncated {
                        break;
                    }
                }
            }
        }
    }
}
