//! Level generation: a pure function of the level seed and the options.
//!
//! As in CoinRun, a level is a chain of sections left to right, each a flat block of ground or a
//! pit between two ledges, at heights that change by at most a jump; pits hold lava, saws or
//! walking monsters; flat sections may hold a saw, a monster and crate stacks; the coin stands at
//! the end. The climb and gap limits come from the physics ([`physics::max_climb`],
//! [`physics::max_gap`]).

use std::sync::Arc;

use super::entities::Monster;
use super::options::{CoinRunOptions, DistributionMode};
use super::physics;
use super::rng::{LevelRng, Stream};
use super::theme::Theme;

/// Width of every level, in tiles.
pub const LEVEL_WIDTH: i32 = 64;
/// Height of every level, in tiles.
pub const LEVEL_HEIGHT: i32 = 64;
/// Where the first section starts; the agent spawns on the floor left of it.
const FIRST_SECTION_X: i32 = 5;
/// The agent's spawn point (centre x, feet y).
pub const SPAWN: (f32, f32) = (1.5, 1.0);
/// No new section starts this close to the right wall.
const RIGHT_MARGIN: i32 = 15;
/// Sections this high only go down.
const MAX_SECTION_HEIGHT: i32 = 20;
/// Sections at least this high may go down.
const MIN_DESCENT_HEIGHT: i32 = 5;
/// Different crate pictures.
pub const CRATE_LOOKS: u8 = 4;

/// What fills one tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tile {
    /// Air.
    #[default]
    Empty,
    /// Ground: solid from every side.
    Wall,
    /// Lava: deadly, not solid.
    Lava,
    /// A crate (with its look): a platform from above only; the agent walks through it and
    /// drops through it with "down".
    Crate(u8),
}

impl Tile {
    /// Blocks movement from every side.
    pub fn is_solid(self) -> bool {
        self == Tile::Wall
    }
}

/// A tile position (x to the right, y up, tile `(x, y)` covering `[x, x+1) x [y, y+1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TilePos {
    /// Column.
    pub x: i32,
    /// Row (0 at the bottom).
    pub y: i32,
}

/// A rectangle of tiles: columns `x..x+width`, rows `y..y+height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileRect {
    /// Left column.
    pub x: i32,
    /// Bottom row.
    pub y: i32,
    /// Columns.
    pub width: i32,
    /// Rows.
    pub height: i32,
}

/// The tiles of a level; everything outside it reads as [`Tile::Wall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileGrid {
    width: i32,
    height: i32,
    tiles: Vec<Tile>,
}

impl TileGrid {
    /// An empty grid.
    pub(crate) fn new(width: i32, height: i32) -> Self {
        Self { width, height, tiles: vec![Tile::Empty; (width * height) as usize] }
    }

    /// Columns.
    pub fn width(&self) -> i32 {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> i32 {
        self.height
    }

    /// The tile at `(x, y)`; a wall outside the grid.
    pub fn get(&self, x: i32, y: i32) -> Tile {
        if x < 0 || y < 0 || x >= self.width || y >= self.height {
            Tile::Wall
        } else {
            self.tiles[(y * self.width + x) as usize]
        }
    }

    pub(crate) fn set(&mut self, x: i32, y: i32, tile: Tile) {
        if x >= 0 && y >= 0 && x < self.width && y < self.height {
            self.tiles[(y * self.width + x) as usize] = tile;
        }
    }

    pub(crate) fn fill(&mut self, r: TileRect, tile: Tile) {
        for y in r.y..r.y + r.height {
            for x in r.x..r.x + r.width {
                self.set(x, y, tile);
            }
        }
    }

    /// A grid from text rows, top row first: `#` wall, `~` lava, `x` crate, anything else air.
    #[cfg(test)]
    pub(crate) fn from_rows(rows: &[&str]) -> Self {
        let height = rows.len() as i32;
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(0) as i32;
        let mut grid = Self::new(width, height);
        for (i, row) in rows.iter().enumerate() {
            for (x, c) in row.chars().enumerate() {
                let tile = match c {
                    '#' => Tile::Wall,
                    '~' => Tile::Lava,
                    'x' => Tile::Crate(0),
                    _ => Tile::Empty,
                };
                grid.set(x as i32, height - 1 - i as i32, tile);
            }
        }
        grid
    }
}

/// What kills the agent in a pit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Danger {
    /// A pool of lava.
    Lava,
    /// A row of saw blades on the pit's floor.
    Saws,
    /// Walking monsters on the pit's floor.
    Monsters,
}

/// A pit section: two ledges at the section's height with a gap between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pit {
    /// Width of the left ledge.
    pub left_ledge: i32,
    /// Width of the right ledge.
    pub right_ledge: i32,
    /// Width of the gap to jump (the pit's opening).
    pub gap: i32,
    /// What fills the pit's bottom.
    pub danger: Danger,
    /// A one-tile-thick platform floating in the gap at the ledges' height (first column and
    /// width), for gaps wider than 4.
    pub stepping_stone: Option<(i32, i32)>,
}

/// What a section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// Solid ground, maybe with a saw, a monster and crates on it.
    Flat,
    /// A pit between two ledges.
    Pit(Pit),
}

/// One section of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Section {
    /// First column.
    pub x: i32,
    /// Columns.
    pub width: i32,
    /// Standing height: the row the agent's feet are on (ground fills rows below it).
    pub height: i32,
    /// Flat or pit.
    pub kind: SectionKind,
}

/// A generated level: geometry, hazards and look.
#[derive(Debug, Clone)]
pub struct Level {
    /// The level seed.
    pub seed: u64,
    /// Difficulty, in `min_difficulty..=max_difficulty`.
    pub difficulty: u32,
    /// Standing height of the floor the agent spawns on.
    pub start_height: i32,
    /// The sections, left to right. The coin column after the last one has its height.
    pub sections: Vec<Section>,
    /// The tile holding the coin.
    pub coin: TilePos,
    /// Tiles holding a saw blade.
    pub saws: Vec<TilePos>,
    /// Tiles holding a crate.
    pub crates: Vec<TilePos>,
    /// Lava pools.
    pub lava_pools: Vec<TileRect>,
    /// The monsters at the start of an episode.
    pub monsters: Vec<Monster>,
    /// The look: colours, patterns, background.
    pub theme: Theme,
    /// The tiles.
    pub grid: TileGrid,
}

impl Level {
    /// The level `seed` under `options` (the options are assumed valid).
    pub fn generate(seed: u64, options: &CoinRunOptions) -> Level {
        let mut rng = LevelRng::new(seed, Stream::Geometry);
        let span = options.max_difficulty.saturating_sub(options.min_difficulty) + 1;
        let difficulty = options.min_difficulty + rng.below(span);
        let mut builder = Builder::new(seed, difficulty, options.distribution_mode == DistributionMode::Hard);
        builder.build(&mut rng);
        builder.finish(Theme::generate(seed, options))
    }

    /// The level as a shared handle for worlds.
    pub fn shared(self) -> Arc<Level> {
        Arc::new(self)
    }

    /// Standing heights from the spawn floor through every section to the coin.
    pub fn heights(&self) -> impl Iterator<Item = i32> + '_ {
        std::iter::once(self.start_height).chain(self.sections.iter().map(|s| s.height))
    }

    /// The highest standing height.
    pub fn max_height(&self) -> i32 {
        self.heights().max().unwrap_or(self.start_height)
    }
}

struct Builder {
    level: Level,
    dif: i32,
    monsters_on_flats: bool,
}

impl Builder {
    fn new(seed: u64, difficulty: u32, monsters_on_flats: bool) -> Self {
        let mut grid = TileGrid::new(LEVEL_WIDTH, LEVEL_HEIGHT);
        grid.fill(TileRect { x: 0, y: 0, width: LEVEL_WIDTH, height: 1 }, Tile::Wall);
        grid.fill(TileRect { x: 0, y: LEVEL_HEIGHT - 1, width: LEVEL_WIDTH, height: 1 }, Tile::Wall);
        grid.fill(TileRect { x: 0, y: 0, width: 1, height: LEVEL_HEIGHT }, Tile::Wall);
        grid.fill(TileRect { x: LEVEL_WIDTH - 1, y: 0, width: 1, height: LEVEL_HEIGHT }, Tile::Wall);
        let level = Level {
            seed,
            difficulty,
            start_height: 1,
            sections: Vec::new(),
            coin: TilePos { x: 0, y: 0 },
            saws: Vec::new(),
            crates: Vec::new(),
            lava_pools: Vec::new(),
            monsters: Vec::new(),
            theme: Theme::default(),
            grid,
        };
        Self { level, dif: difficulty as i32, monsters_on_flats }
    }

    fn ground(&mut self, x: i32, width: i32, height: i32) {
        self.level.grid.fill(TileRect { x, y: 0, width, height }, Tile::Wall);
    }

    fn build(&mut self, rng: &mut LevelRng) {
        let dif = self.dif;
        let max_climb = physics::max_climb();
        let max_gap = physics::max_gap();
        let num_sections = rng.below_i(dif) + dif;
        let danger = [Danger::Lava, Danger::Saws, Danger::Monsters][rng.below(3) as usize];
        let (mut x, mut height) = (FIRST_SECTION_X, self.level.start_height);
        for _ in 0..num_sections {
            if x + RIGHT_MARGIN >= LEVEL_WIDTH {
                break;
            }
            let mut dy = (rng.below_i(4) + 1 + dif / 3).min(max_climb);
            if height >= MAX_SECTION_HEIGHT || (height >= MIN_DESCENT_HEIGHT && rng.coin_flip()) {
                dy = -dy;
            }
            let width = rng.below_i(2 * dif) + 3 + dif / 3;
            height = (height + dy).max(1);
            let use_pit = width > 7 && height > 3 && rng.below_i(20) >= dif;
            let kind = if use_pit {
                SectionKind::Pit(self.pit(rng, x, width, height, danger, max_gap))
            } else {
                self.flat(rng, x, width, height, max_gap);
                SectionKind::Flat
            };
            self.level.sections.push(Section { x, width, height, kind });
            x += width;
        }
        self.level.coin = TilePos { x, y: height };
        self.ground(x, 1, height);
        self.level.grid.fill(TileRect { x: x + 1, y: 0, width: LEVEL_WIDTH - x - 1, height: LEVEL_HEIGHT }, Tile::Wall);
    }

    fn pit(&mut self, rng: &mut LevelRng, x: i32, width: i32, height: i32, danger: Danger, max_gap: i32) -> Pit {
        let left_ledge = rng.below_i(3) + 1;
        let mut right_ledge = rng.below_i(3) + 1;
        let mut gap = width - left_ledge - right_ledge;
        if gap > max_gap {
            gap = max_gap;
            right_ledge = width - left_ledge - gap;
        }
        self.ground(x, left_ledge, height);
        self.ground(x + width - right_ledge, right_ledge, height);
        let floor_x = x + left_ledge;
        let lava_height = rng.below_i(height - 3) + 1;
        match danger {
            Danger::Lava => {
                let pool = TileRect { x: floor_x, y: 1, width: gap, height: lava_height };
                self.level.grid.fill(pool, Tile::Lava);
                self.level.lava_pools.push(pool);
            }
            Danger::Saws => self.level.saws.extend((0..gap).map(|i| TilePos { x: floor_x + i, y: 1 })),
            Danger::Monsters => {
                for i in 0..gap {
                    let dir = rng.coin_flip();
                    self.level.monsters.push(Monster::spawn(
                        TilePos { x: floor_x + i, y: 1 },
                        dir,
                        floor_x,
                        floor_x + gap,
                    ));
                }
            }
        }
        let stepping_stone = (gap > 4).then(|| {
            let (offset, stone) = match gap {
                5 => (1 + rng.below_i(2), 1 + rng.below_i(2)),
                6 => (2 + rng.below_i(2), 1 + rng.below_i(2)),
                _ => {
                    let offset = 2 + rng.below_i(2);
                    (offset, gap - offset - 2 - rng.below_i(2))
                }
            };
            let r = TileRect { x: floor_x + offset, y: height - 1, width: stone, height: 1 };
            self.level.grid.fill(r, Tile::Wall);
            (r.x, stone)
        });
        Pit { left_ledge, right_ledge, gap, danger, stepping_stone }
    }

    fn flat(&mut self, rng: &mut LevelRng, x: i32, width: i32, height: i32, max_gap: i32) {
        self.ground(x, width, height);
        let dif = self.dif;
        let mut saw_x = None;
        let mut monster_x = None;
        if rng.below_i(10) < 2 * dif && width > 3 {
            let sx = x + rng.below_i(width - 2) + 1;
            self.level.saws.push(TilePos { x: sx, y: height });
            saw_x = Some(sx);
        }
        if rng.below_i(10) < dif && width > 3 && max_gap >= 4 {
            let mx = x + rng.below_i(width - 2) + 1;
            let dir = rng.coin_flip();
            if self.monsters_on_flats {
                self.level.monsters.push(Monster::spawn(TilePos { x: mx, y: height }, dir, x, x + width));
            }
            // Reserved in easy levels too, so that both modes share their crates.
            monster_x = Some(mx);
        }
        for _ in 0..2 {
            let cx = x + rng.below_i(width - 2) + 1;
            if rng.coin_flip() && saw_x != Some(cx) && monster_x != Some(cx) {
                let pile = rng.below_i(3) + 1;
                for j in 0..pile {
                    let pos = TilePos { x: cx, y: height + j };
                    if self.level.grid.get(pos.x, pos.y) == Tile::Empty {
                        self.level.grid.set(pos.x, pos.y, Tile::Crate(rng.below(u32::from(CRATE_LOOKS)) as u8));
                        self.level.crates.push(pos);
                    }
                }
            }
        }
    }

    fn finish(mut self, theme: Theme) -> Level {
        self.level.theme = theme;
        self.level
    }
}
