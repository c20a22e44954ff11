//! The agent's physics, in tiles and steps (as the original CoinRun): velocity updates, gravity,
//! jumps, and sub-stepped movement against the tile grid.

use super::generate::{Tile, TileGrid};
use super::options::Move;

/// Downward acceleration per step.
pub const GRAVITY: f32 = 0.2;
/// Upward speed at the start of a jump (and the largest vertical speed).
pub const MAX_JUMP: f32 = 1.5;
/// Largest horizontal speed.
pub const MAX_SPEED: f32 = 0.5;
/// How fast the horizontal speed follows the input on the ground.
pub const MIX_RATE: f32 = 0.2;
/// The fraction of [`MIX_RATE`] that applies in the air.
pub const AIR_CONTROL: f32 = 0.15;
/// Half the agent's width.
pub const AGENT_HALF_WIDTH: f32 = 0.4;
/// The agent's height.
pub const AGENT_HEIGHT: f32 = 1.2;
/// The largest distance moved in one sub-step; below the agent's size and a tile, so nothing is
/// tunnelled through.
pub const MAX_SUB_STEP: f32 = 0.25;
/// Slack for comparisons at tile boundaries.
const EPS: f32 = 1e-4;

/// An axis-aligned box in world units (y up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left.
    pub x0: f32,
    /// Bottom.
    pub y0: f32,
    /// Right.
    pub x1: f32,
    /// Top.
    pub y1: f32,
}

impl Rect {
    /// True when the open interiors of the two boxes meet.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    /// The columns this box covers.
    pub fn cols(&self) -> std::ops::RangeInclusive<i32> {
        (self.x0 + EPS).floor() as i32..=(self.x1 - EPS).floor() as i32
    }

    /// The rows this box covers.
    pub fn rows(&self) -> std::ops::RangeInclusive<i32> {
        (self.y0 + EPS).floor() as i32..=(self.y1 - EPS).floor() as i32
    }
}

/// The horizontal velocity after one step's input `dx` (-1..=1), on the ground or in the air:
/// ground `vx <- 0.8 vx + 0.1 dx` (speeds below 0.1 snap to 0), air `vx <- 0.97 vx + 0.03 dx`,
/// then clipped to [`MAX_SPEED`].
pub fn next_vx(vx: f32, dx: f32, supported: bool) -> f32 {
    let vx = if supported {
        let vx = (1.0 - MIX_RATE) * vx + MIX_RATE * MAX_SPEED * dx;
        if vx.abs() < MIX_RATE * MAX_SPEED { 0.0 } else { vx }
    } else {
        let ac = AIR_CONTROL * MIX_RATE;
        (1.0 - ac) * vx + ac * dx
    };
    vx.clamp(-MAX_SPEED, MAX_SPEED)
}

/// The vertical velocity after one step: a jump sets [`MAX_JUMP`], else gravity pulls.
pub fn next_vy(vy: f32, jump: bool) -> f32 {
    if jump { MAX_JUMP } else { (vy - GRAVITY).clamp(-MAX_JUMP, MAX_JUMP) }
}

/// One jump from flat ground while running right at full speed, step by step: the offsets
/// `(x, y)` from the take-off point until the feet are back at take-off height.
fn jump_arc() -> impl Iterator<Item = (f32, f32)> {
    let (mut x, mut y, mut vx, mut vy) = (0.0, 0.0, MAX_SPEED, next_vy(0.0, true));
    std::iter::from_fn(move || {
        x += vx;
        y += vy;
        vx = next_vx(vx, 1.0, false);
        vy = next_vy(vy, false);
        (y > 0.0).then_some((x, y))
    })
}

/// The highest the feet rise in a jump (6.4 tiles with the default constants).
pub fn max_jump_height() -> f32 {
    jump_arc().map(|(_, y)| y).fold(0.0, f32::max)
}

/// How far a full-speed jump carries before the feet are back at take-off height (8 tiles: 16
/// steps at 0.5).
pub fn max_jump_distance() -> f32 {
    jump_arc().last().map_or(0.0, |(x, _)| x + MAX_SPEED)
}

/// The largest rise between sections the generator builds: a jump's height less one tile of
/// margin for the approach.
pub fn max_climb() -> i32 {
    (max_jump_height() - 1.0).floor() as i32
}

/// The widest gap the generator builds: a jump's reach less one tile of margin for the
/// take-off point (the agent moves up to [`MAX_SPEED`] a step) and landing.
pub fn max_gap() -> i32 {
    (max_jump_distance() - 1.0).floor() as i32
}

/// The agent's physical state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Body {
    /// Centre x.
    pub x: f32,
    /// Feet y.
    pub y: f32,
    /// Horizontal velocity, tiles per step.
    pub vx: f32,
    /// Vertical velocity, tiles per step (up positive).
    pub vy: f32,
    /// Standing on ground or a crate after the last step.
    pub supported: bool,
}

impl Body {
    /// At rest with feet at `(x, y)`.
    pub fn at(x: f32, y: f32) -> Self {
        Self { x, y, vx: 0.0, vy: 0.0, supported: false }
    }

    /// The hitbox.
    pub fn rect(&self) -> Rect {
        Rect { x0: self.x - AGENT_HALF_WIDTH, y0: self.y, x1: self.x + AGENT_HALF_WIDTH, y1: self.y + AGENT_HEIGHT }
    }

    /// Standing on something: not moving vertically, feet on a tile boundary above a wall (or a
    /// crate, unless dropping through crates).
    pub fn on_ground(&self, grid: &TileGrid, drop_through_crates: bool) -> bool {
        if self.vy != 0.0 || self.y.fract().abs() > EPS {
            return false;
        }
        let row = self.y.round() as i32 - 1;
        self.rect().cols().any(|c| match grid.get(c, row) {
            Tile::Wall => true,
            Tile::Crate(_) => !drop_through_crates,
            Tile::Empty | Tile::Lava => false,
        })
    }

    /// One step under the command `mv`.
    pub fn step(&mut self, grid: &TileGrid, mv: Move) {
        let drop = mv.dy < 0;
        let supported = self.on_ground(grid, drop);
        self.vx = next_vx(self.vx, f32::from(mv.dx), supported);
        self.vy = next_vy(self.vy, supported && mv.dy > 0);
        let n = (self.vx.abs().max(self.vy.abs()) / MAX_SUB_STEP).ceil().max(1.0);
        let (sx, sy) = (self.vx / n, self.vy / n);
        for _ in 0..n as u32 {
            self.move_x(grid, sx);
            self.move_y(grid, sy, drop);
        }
        self.supported = self.on_ground(grid, false);
    }

    fn move_x(&mut self, grid: &TileGrid, d: f32) {
        if d == 0.0 {
            return;
        }
        let moved = Rect { x0: self.rect().x0 + d, x1: self.rect().x1 + d, ..self.rect() };
        let col = if d > 0.0 { *moved.cols().end() } else { *moved.cols().start() };
        if moved.rows().any(|r| grid.get(col, r).is_solid()) {
            self.x = if d > 0.0 { col as f32 - AGENT_HALF_WIDTH } else { (col + 1) as f32 + AGENT_HALF_WIDTH };
            self.vx = 0.0;
        } else {
            self.x += d;
        }
    }

    fn move_y(&mut self, grid: &TileGrid, d: f32, drop: bool) {
        if d == 0.0 {
            return;
        }
        let before = self.rect();
        let moved = Rect { y0: before.y0 + d, y1: before.y1 + d, ..before };
        if d < 0.0 {
            let row = *moved.rows().start();
            let entered = row < *before.rows().start();
            let lands = |t: Tile| t.is_solid() || (entered && !drop && matches!(t, Tile::Crate(_)));
            if moved.cols().any(|c| lands(grid.get(c, row))) {
                self.y = (row + 1) as f32;
                self.vy = 0.0;
                return;
            }
        } else {
            let row = *moved.rows().end();
            if moved.cols().any(|c| grid.get(c, row).is_solid()) {
                self.y = row as f32 - AGENT_HEIGHT;
                self.vy = 0.0;
                return;
            }
        }
        self.y += d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> TileGrid {
        TileGrid::from_rows(&[
            "##################", // row 9
            "#................#",
            "#................#",
            "#................#",
            "#................#",
            "#................#",
            "#.......x........#",
            "#.......x....#...#",
            "#............#...#",
            "##################", // row 0
        ])
    }

    #[test]
    fn velocity_updates_follow_the_spec() {
        assert!((next_vx(0.0, 1.0, true) - 0.1).abs() < 1e-6);
        assert!((next_vx(0.1, 1.0, true) - 0.18).abs() < 1e-6);
        assert!((next_vx(0.2, 0.0, false) - 0.194).abs() < 1e-6);
        assert!((next_vx(0.2, 1.0, false) - 0.224).abs() < 1e-6);
        assert_eq!(next_vx(0.5, 1.0, true), 0.5);
        assert_eq!(next_vx(0.5, 1.0, false), 0.5, "clipped to the max speed");
        assert_eq!(next_vx(0.05, 0.0, true), 0.0, "slow speeds stop on the ground");
        assert_eq!(next_vy(0.0, true), MAX_JUMP);
        assert!((next_vy(1.5, false) - 1.3).abs() < 1e-6);
        assert_eq!(next_vy(-1.5, false), -MAX_JUMP);
    }

    #[test]
    fn jump_metrics_follow_from_the_constants() {
        // Discrete sums: 1.5 + 1.3 + ... + 0.1 = 6.4; 16 steps in the air at 0.5.
        assert!((max_jump_height() - 6.4).abs() < 1e-3, "{}", max_jump_height());
        assert!((max_jump_distance() - 8.0).abs() < 1e-3, "{}", max_jump_distance());
        assert_eq!((max_climb(), max_gap()), (5, 7));
        // Under the continuous bounds v^2 / 2g and 2 v / g * max speed, less half a tile.
        assert!((max_climb() as f32) < MAX_JUMP * MAX_JUMP / (2.0 * GRAVITY));
        assert!((max_gap() as f32) < 2.0 * MAX_JUMP / GRAVITY * MAX_SPEED);
    }

    #[test]
    fn falls_lands_and_stands_still() {
        let g = grid();
        let mut b = Body::at(3.5, 6.0);
        for _ in 0..30 {
            b.step(&g, Move::NOOP);
        }
        assert_eq!((b.x, b.y, b.vy), (3.5, 1.0, 0.0));
        assert!(b.supported && b.on_ground(&g, false));
    }

    #[test]
    fn no_tunnelling_at_top_speed() {
        let g = grid();
        // Falling at full speed onto the one-tile-thick floor.
        let mut b = Body { vy: -MAX_JUMP, ..Body::at(10.5, 7.9) };
        for _ in 0..10 {
            b.step(&g, Move::NOOP);
            assert!(b.y >= 1.0, "fell into the floor: {b:?}");
        }
        assert_eq!(b.y, 1.0);
        // Running into a one-tile-wide wall at full speed, for many starting offsets.
        for k in 0..20 {
            let mut b = Body { vx: MAX_SPEED, ..Body::at(11.0 + k as f32 * 0.05, 1.0) };
            for _ in 0..20 {
                b.step(&g, Move::RIGHT);
            }
            assert!((b.x - (13.0 - AGENT_HALF_WIDTH)).abs() < 1e-4, "{b:?}");
        }
        // Jumping from the crate stack into the ceiling.
        let mut b = Body::at(8.5, 4.0);
        b.step(&g, Move::JUMP);
        assert!(b.vy > 0.0);
        for _ in 0..20 {
            b.step(&g, Move::NOOP);
            assert!(b.rect().y1 <= 9.0 + 1e-4, "{b:?}");
        }
    }

    #[test]
    fn crates_hold_from_above_only_and_drop_through() {
        let g = grid();
        let mut b = Body::at(8.5, 5.0);
        for _ in 0..10 {
            b.step(&g, Move::NOOP);
        }
        assert_eq!(b.y, 4.0, "stands on the crate stack");
        for _ in 0..10 {
            b.step(&g, Move::DOWN);
        }
        assert_eq!(b.y, 1.0, "dropped through both crates");
        // Walks through crates sideways.
        let mut b = Body::at(6.5, 1.0);
        for _ in 0..12 {
            b.step(&g, Move::RIGHT);
        }
        assert!(b.x > 10.0 && b.y == 1.0, "{b:?}");
    }

    #[test]
    fn a_running_jump_clears_max_climb() {
        let climb = max_climb() as usize;
        let mut rows = vec!["#".repeat(20)];
        rows.extend(std::iter::repeat_n(format!("#{}#", ".".repeat(18)), 8));
        rows.extend(std::iter::repeat_n(format!("#{}{}#", ".".repeat(9), "#".repeat(9)), climb));
        rows.push("#".repeat(20));
        let g = TileGrid::from_rows(&rows.iter().map(String::as_str).collect::<Vec<_>>());
        let mut b = Body::at(3.5, 1.0);
        for t in 0..40 {
            b.step(&g, if t == 6 { Move::RIGHT_JUMP } else { Move::RIGHT });
        }
        assert_eq!(b.y, 1.0 + climb as f32, "{b:?}");
    }
}
