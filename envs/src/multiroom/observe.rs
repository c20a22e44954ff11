//! Observation encoders: the full grid of codes, the egocentric 7 x 7 view, and RGB pictures.

use super::grid::{Cell, Colour, Object, Pos};
use super::options::MultiRoomObs;
use super::rgb::Painter;
use super::world::World;
use crate::{DType, ObjectBox, ObsSpace};

/// Side of the egocentric view (MiniGrid's default `agent_view_size`).
pub const VIEW_SIZE: usize = 7;

/// Writes observations of one kind, keeping whatever it can between steps.
#[derive(Debug, Clone)]
pub(crate) enum Observer {
    /// The full grid; `base` holds the codes of every cell without the agent.
    Grid {
        /// `grid_size x grid_size x 3` codes of the cells.
        base: Vec<u8>,
    },
    /// The egocentric view, computed afresh each step (49 cells).
    Egocentric,
    /// The picture of the full grid, repainted where it changed.
    Rgb(Painter),
}

impl Observer {
    /// An encoder for `obs` on a `grid_size` grid.
    pub fn new(obs: MultiRoomObs, grid_size: usize) -> Self {
        match obs {
            MultiRoomObs::Grid => Observer::Grid { base: vec![0; grid_size * grid_size * 3] },
            MultiRoomObs::Egocentric => Observer::Egocentric,
            MultiRoomObs::Rgb { tile_size } => Observer::Rgb(Painter::new(tile_size, grid_size)),
        }
    }

    /// The observation space of `obs` on a `grid_size` grid.
    pub fn space(obs: MultiRoomObs, grid_size: usize) -> ObsSpace {
        let codes = |side, high: Object| ObsSpace { shape: vec![side, side, 3], dtype: DType::U8, high: high as u8 };
        match obs {
            MultiRoomObs::Grid => codes(grid_size, Object::Agent),
            MultiRoomObs::Egocentric => codes(VIEW_SIZE, Object::Goal),
            MultiRoomObs::Rgb { tile_size } => ObsSpace::rgb(grid_size * tile_size, grid_size * tile_size),
        }
    }

    /// Encodes a freshly generated level.
    pub fn reset(&mut self, world: &World) {
        match self {
            Observer::Grid { base } => {
                for (out, cell) in base.chunks_exact_mut(3).zip(world.grid.cells()) {
                    out.copy_from_slice(&cell.encode());
                }
            }
            Observer::Egocentric => {}
            Observer::Rgb(painter) => painter.paint_all(world),
        }
    }

    /// Brings the encoding up to date after a step in which the agent left `left` and the cell
    /// `toggled` (if any) changed.
    pub fn update(&mut self, world: &World, left: Pos, toggled: Option<Pos>) {
        match self {
            Observer::Grid { base } => {
                if let Some(p) = toggled {
                    let i = 3 * (p.y * world.grid.size() + p.x) as usize;
                    base[i..i + 3].copy_from_slice(&world.grid.get(p).encode());
                }
            }
            Observer::Egocentric => {}
            Observer::Rgb(painter) => {
                painter.paint_cell(world, left);
                if world.agent != left {
                    painter.paint_cell(world, world.agent);
                }
                if let Some(p) = toggled {
                    painter.paint_cell(world, p);
                }
            }
        }
    }

    /// Writes the current observation into `out` (of the space's length).
    pub fn write(&self, world: &World, out: &mut [u8]) {
        match self {
            Observer::Grid { base } => {
                out.copy_from_slice(base);
                let i = 3 * (world.agent.y * world.grid.size() + world.agent.x) as usize;
                out[i..i + 3].copy_from_slice(&[Object::Agent as u8, Colour::Red as u8, world.dir as u8]);
            }
            Observer::Egocentric => egocentric(world, out),
            Observer::Rgb(painter) => out.copy_from_slice(painter.image()),
        }
    }

    /// Boxes of the agent, the goal and the doors in observation pixels (RGB only).
    pub fn boxes(&self, world: &World) -> Vec<ObjectBox> {
        match self {
            Observer::Rgb(painter) => painter.boxes(world),
            Observer::Grid { .. } | Observer::Egocentric => Vec::new(),
        }
    }
}

/// MiniGrid's partial view: row `r`, column `c` of the 7 x 7 view is the cell `6 - r` ahead of
/// the agent and `c - 3` to its right, so the agent sits at the bottom middle looking up. Cells
/// off the grid are walls; cells hidden behind walls and closed doors are unseen (all codes 0),
/// by MiniGrid's `process_vis` sweep; the agent's own cell reads as empty.
fn egocentric(world: &World, out: &mut [u8]) {
    const N: usize = VIEW_SIZE;
    let (fx, fy) = world.dir.delta();
    let (rx, ry) = (-fy, fx);
    let mut cells = [Cell::Wall; N * N];
    for (i, cell) in cells.iter_mut().enumerate() {
        let (ahead, right) = ((N - 1 - i / N) as i32, (i % N) as i32 - (N / 2) as i32);
        let p = Pos { x: world.agent.x + ahead * fx + right * rx, y: world.agent.y + ahead * fy + right * ry };
        *cell = world.grid.get(p);
    }
    let agent = (N - 1) * N + N / 2;
    let mut seen = [false; N * N];
    seen[agent] = true;
    // Light spreads from each seen transparent cell sideways and to the row ahead: first
    // rightwards, then leftwards, row after row away from the agent.
    for row in (0..N).rev() {
        let mut spread = |from: usize, to: usize| {
            if seen[row * N + from] && cells[row * N + from].transparent() {
                seen[row * N + to] = true;
                if row > 0 {
                    seen[(row - 1) * N + from] = true;
                    seen[(row - 1) * N + to] = true;
                }
            }
        };
        for c in 0..N - 1 {
            spread(c, c + 1);
        }
        for c in (1..N).rev() {
            spread(c, c - 1);
        }
    }
    cells[agent] = Cell::Empty;
    for ((out, cell), seen) in out.chunks_exact_mut(3).zip(cells).zip(seen) {
        out.copy_from_slice(&if seen { cell.encode() } else { [Object::Unseen as u8, 0, 0] });
    }
}
