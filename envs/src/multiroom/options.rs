//! The game's options: one plain struct, with MiniGrid's registered variants as presets.

use serde::{Deserialize, Serialize};

use crate::EnvError;

/// Smallest room side (walls included): a 2 x 2 interior holds the agent and the goal apart.
pub const MIN_ROOM_SIDE: usize = 4;
/// Largest grid side.
pub const MAX_GRID_SIZE: usize = 255;
/// Largest RGB tile side in pixels.
pub const MAX_TILE_SIZE: usize = 64;
/// Smallest RGB tile side in pixels (enough for the agent's triangle to show its heading).
pub const MIN_TILE_SIZE: usize = 3;

/// What the agent observes. In TOML: `obs = { kind = "grid" }`, `{ kind = "egocentric" }` or
/// `{ kind = "rgb", tile_size = 8 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MultiRoomObs {
    /// The whole grid, `grid_size x grid_size x 3` codes (the paper's observation).
    Grid,
    /// MiniGrid's default partial view: 7 x 7 x 3 codes in front of the agent.
    Egocentric,
    /// The whole grid as a picture, `tile_size` pixels per cell (MiniGrid's `RGBImgObsWrapper`).
    Rgb {
        /// Pixels per cell side.
        tile_size: usize,
    },
}

/// Options of [`MultiRoom`](super::MultiRoom). `Default` is the paper's variant: 1 to 3 rooms,
/// room sides 4 to 6 (walls included), an 11 x 11 grid, full-grid observations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MultiRoomOptions {
    /// Fewest rooms in a level (at least 1).
    pub min_rooms: usize,
    /// Most rooms in a level; the count is uniform in `min_rooms..=max_rooms`.
    pub max_rooms: usize,
    /// Side of the square grid, in cells.
    pub grid_size: usize,
    /// Smallest room side, walls included (at least 4).
    pub min_room_size: usize,
    /// Largest room side, walls included.
    pub max_room_size: usize,
    /// The observation.
    pub obs: MultiRoomObs,
    /// The time limit; `None` means MiniGrid's `20 * max_rooms`.
    pub max_steps: Option<u32>,
    /// Fraction of levels whose goal reward is negated (random labels, see [`crate::label`]);
    /// 0 = none.
    pub label_noise: f64,
}

impl Default for MultiRoomOptions {
    fn default() -> Self {
        Self {
            min_rooms: 1,
            max_rooms: 3,
            grid_size: 11,
            min_room_size: 4,
            max_room_size: 6,
            obs: MultiRoomObs::Grid,
            max_steps: None,
            label_noise: 0.0,
        }
    }
}

impl MultiRoomOptions {
    /// MiniGrid's `MultiRoom-N2-S4`: 2 rooms of side 4 on a 25 x 25 grid.
    pub fn n2_s4() -> Self {
        Self::minigrid(2, 4)
    }

    /// MiniGrid's `MultiRoom-N4-S5-v1`: 4 rooms of side 4 or 5 on a 25 x 25 grid.
    pub fn n4_s5() -> Self {
        Self::minigrid(4, 5)
    }

    /// MiniGrid's `MultiRoom-N6`: 6 rooms of side 4 to 10 on a 25 x 25 grid.
    pub fn n6() -> Self {
        Self::minigrid(6, 10)
    }

    fn minigrid(rooms: usize, max_room_size: usize) -> Self {
        Self { min_rooms: rooms, max_rooms: rooms, grid_size: 25, max_room_size, ..Self::default() }
    }

    /// These options with another observation.
    pub fn with_obs(self, obs: MultiRoomObs) -> Self {
        Self { obs, ..self }
    }

    /// The time limit in steps.
    pub fn time_limit(&self) -> u32 {
        self.max_steps.unwrap_or(20 * self.max_rooms as u32)
    }

    /// Checks that the options can build levels.
    ///
    /// Besides the obvious bounds, a straight chain of `max_rooms` rooms of the smallest side must
    /// fit across the grid (`max_rooms * (min_room_size - 1) + 1 <= grid_size`, neighbours share a
    /// wall): then every room count has layouts, and the generator finds one quickly.
    pub fn validate(&self) -> Result<(), EnvError> {
        let fail = |msg: String| Err(EnvError::InvalidOptions(format!("multiroom: {msg}")));
        crate::label::check(self.label_noise)?;
        if self.min_rooms == 0 {
            return fail("min_rooms must be at least 1".into());
        }
        if self.min_rooms > self.max_rooms {
            return fail(format!("min_rooms ({}) exceeds max_rooms ({})", self.min_rooms, self.max_rooms));
        }
        if self.min_room_size < MIN_ROOM_SIDE {
            return fail(format!(
                "min_room_size ({}) must be at least {MIN_ROOM_SIDE} (walls included)",
                self.min_room_size
            ));
        }
        if self.min_room_size > self.max_room_size {
            return fail(format!(
                "min_room_size ({}) exceeds max_room_size ({})",
                self.min_room_size, self.max_room_size
            ));
        }
        if self.grid_size > MAX_GRID_SIZE {
            return fail(format!("grid_size ({}) exceeds {MAX_GRID_SIZE}", self.grid_size));
        }
        if self.max_room_size > self.grid_size {
            return fail(format!("max_room_size ({}) exceeds grid_size ({})", self.max_room_size, self.grid_size));
        }
        let chain = self.max_rooms.saturating_mul(self.min_room_size - 1).saturating_add(1);
        if chain > self.grid_size {
            return fail(format!(
                "grid_size ({}) is too small: a chain of {} rooms of side {} needs {chain} cells",
                self.grid_size, self.max_rooms, self.min_room_size
            ));
        }
        if self.max_steps == Some(0) {
            return fail("max_steps must be at least 1".into());
        }
        if let MultiRoomObs::Rgb { tile_size } = self.obs
            && !(MIN_TILE_SIZE..=MAX_TILE_SIZE).contains(&tile_size)
        {
            return fail(format!("tile_size ({tile_size}) must be in {MIN_TILE_SIZE}..={MAX_TILE_SIZE}"));
        }
        Ok(())
    }
}
