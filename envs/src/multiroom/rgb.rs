//! RGB pictures of the grid, painted from pre-drawn tiles.
//!
//! Tiles (MiniGrid's look, drawn afresh): empty cells black with a grey line on their top and
//! left edges, walls grey, the goal green, a closed door filled with its colour with a black
//! inner outline and handle, an open door as a frame of its colour on a black cell, and the
//! agent as a red triangle pointing along its heading, over whatever cell it stands on.

use super::grid::{Cell, Colour, DoorState, Pos};
use super::world::World;
use crate::{ObjectBox, ObjectClass};

const BLACK: [u8; 3] = [0, 0, 0];
/// Number of distinct tiles: empty, wall, goal, and a door per colour and state.
const TILES: usize = 3 + 2 * Colour::ALL.len();

/// Paints a `grid_size x grid_size` grid with `tile x tile` pixel cells.
#[derive(Debug, Clone)]
pub(crate) struct Painter {
    tile: usize,
    cells: usize,
    /// `TILES` tiles of `tile x tile x 3` bytes.
    sprites: Vec<u8>,
    /// Per heading, which of the `tile x tile` pixels the agent covers.
    agent: Vec<bool>,
    image: Vec<u8>,
}

impl Painter {
    /// A painter for `cells x cells` grids with `tile`-pixel cells.
    pub fn new(tile: usize, cells: usize) -> Self {
        let mut sprites = vec![0; TILES * tile * tile * 3];
        for (i, sprite) in sprites.chunks_exact_mut(tile * tile * 3).enumerate() {
            draw_tile(sprite, tile, tile_cell(i));
        }
        let agent = (0..4 * tile * tile)
            .map(|i| {
                let (dir, py, px) = (i / (tile * tile), i / tile % tile, i % tile);
                let (mut u, mut v) = ((px as f32 + 0.5) / tile as f32, (py as f32 + 0.5) / tile as f32);
                // Turn the pixel back a quarter turn per heading step, into the right-facing frame.
                for _ in 0..dir {
                    (u, v) = (v, 1.0 - u);
                }
                (0.15..=0.85).contains(&u) && (v - 0.5).abs() <= 0.5 * (0.85 - u)
            })
            .collect();
        let side = cells * tile;
        Self { tile, cells, sprites, agent, image: vec![0; side * side * 3] }
    }

    /// Width and height of the picture in pixels.
    pub fn side(&self) -> usize {
        self.cells * self.tile
    }

    /// The current picture, `side x side x 3`.
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// Paints every cell.
    pub fn paint_all(&mut self, world: &World) {
        for y in 0..self.cells as i32 {
            for x in 0..self.cells as i32 {
                self.paint_cell(world, Pos { x, y });
            }
        }
    }

    /// Paints the cell `p`, with the agent if it stands there.
    pub fn paint_cell(&mut self, world: &World, p: Pos) {
        let (t, stride) = (self.tile, self.side() * 3);
        let sprite = &self.sprites[tile_index(world.grid.get(p)) * t * t * 3..][..t * t * 3];
        let origin = p.y as usize * t * stride + p.x as usize * t * 3;
        for (row, src) in sprite.chunks_exact(t * 3).enumerate() {
            self.image[origin + row * stride..][..t * 3].copy_from_slice(src);
        }
        if p == world.agent {
            let mask = &self.agent[world.dir as usize * t * t..][..t * t];
            for (i, _) in mask.iter().enumerate().filter(|(_, covered)| **covered) {
                self.image[origin + i / t * stride + i % t * 3..][..3].copy_from_slice(&Colour::Red.rgb());
            }
        }
    }

    /// Boxes of the agent, the goal and every door, in picture pixels.
    pub fn boxes(&self, world: &World) -> Vec<ObjectBox> {
        let t = self.tile as f32;
        let tile_box = |class, p: Pos| ObjectBox {
            class,
            x1: p.x as f32 * t,
            y1: p.y as f32 * t,
            x2: (p.x + 1) as f32 * t,
            y2: (p.y + 1) as f32 * t,
        };
        [tile_box(ObjectClass::Agent, world.agent), tile_box(ObjectClass::Goal, world.goal)]
            .into_iter()
            .chain(world.doors.iter().map(|&p| tile_box(ObjectClass::Door, p)))
            .collect()
    }
}

/// The tile of a cell.
fn tile_index(cell: Cell) -> usize {
    match cell {
        Cell::Empty => 0,
        Cell::Wall => 1,
        Cell::Goal => 2,
        Cell::Door(colour, state) => 3 + 2 * colour as usize + state as usize,
    }
}

/// The cell tile `i` shows (the inverse of [`tile_index`]).
fn tile_cell(i: usize) -> Cell {
    match i {
        0 => Cell::Empty,
        1 => Cell::Wall,
        2 => Cell::Goal,
        _ => Cell::Door(Colour::ALL[(i - 3) / 2], [DoorState::Open, DoorState::Closed][(i - 3) % 2]),
    }
}

/// Draws `cell` into a `t x t x 3` tile.
fn draw_tile(pixels: &mut [u8], t: usize, cell: Cell) {
    let mut tile = Canvas { pixels, t };
    // Door frames and handles are an eighth of the tile thick.
    let k = (t / 8).max(1);
    match cell {
        Cell::Empty => tile.grid_lines(),
        Cell::Wall => tile.fill(0, 0, t, t, Colour::Grey.rgb()),
        Cell::Goal => tile.fill(0, 0, t, t, Colour::Green.rgb()),
        Cell::Door(colour, DoorState::Open) => {
            tile.grid_lines();
            tile.frame(0, k, colour.rgb());
        }
        Cell::Door(colour, DoorState::Closed) => {
            tile.fill(0, 0, t, t, colour.rgb());
            tile.frame(k, 1, BLACK);
            if t >= 6 {
                let (x, y) = (t - 3 * k - 1, (t - k) / 2);
                tile.fill(x, y, x + k, y + k, BLACK);
            }
        }
    }
}

/// A square tile being drawn.
struct Canvas<'a> {
    pixels: &'a mut [u8],
    t: usize,
}

impl Canvas<'_> {
    /// Fills the pixels `x0..x1` by `y0..y1`.
    fn fill(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, rgb: [u8; 3]) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.pixels[(y * self.t + x) * 3..][..3].copy_from_slice(&rgb);
            }
        }
    }

    /// A square outline `width` pixels thick, `inset` pixels inside the tile's edge.
    fn frame(&mut self, inset: usize, width: usize, rgb: [u8; 3]) {
        let (lo, hi) = (inset, self.t - inset);
        self.fill(lo, lo, hi, lo + width, rgb);
        self.fill(lo, hi - width, hi, hi, rgb);
        self.fill(lo, lo, lo + width, hi, rgb);
        self.fill(hi - width, lo, hi, hi, rgb);
    }

    /// MiniGrid's grid lines: grey along the top and left edges.
    fn grid_lines(&mut self) {
        let t = self.t;
        self.fill(0, 0, t, 1, Colour::Grey.rgb());
        self.fill(0, 0, 1, t, Colour::Grey.rgb());
    }
}
