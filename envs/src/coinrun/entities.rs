//! The things in a level besides tiles: walking monsters, saw blades and the coin, with their
//! hitboxes and drawn boxes (world units).

use super::generate::TilePos;
use super::physics::Rect;

/// A walking monster's speed, tiles per step.
pub const MONSTER_SPEED: f32 = 0.15;
/// Half a monster's width.
pub const MONSTER_HALF_WIDTH: f32 = 0.4;
/// A monster's height.
pub const MONSTER_HEIGHT: f32 = 0.7;
/// Half the side of a saw's hitbox, around its tile's centre.
const SAW_HIT_HALF: f32 = 0.35;
/// Half the side of the drawn saw blade.
pub const SAW_DRAWN_HALF: f32 = 0.45;
/// Half the side of the coin (hitbox and drawing).
pub const COIN_HALF: f32 = 0.35;

/// A monster walking back and forth on the floor of a section or pit, turning at its ends (walls
/// and ledges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Monster {
    /// Centre x.
    pub x: f32,
    /// Feet y.
    pub y: f32,
    /// Signed speed.
    pub vx: f32,
    /// Leftmost centre x.
    pub min_x: f32,
    /// Rightmost centre x.
    pub max_x: f32,
}

impl Monster {
    /// A monster in tile `at` walking right (`right`) or left, on the floor columns
    /// `from..to`.
    pub(crate) fn spawn(at: TilePos, right: bool, from: i32, to: i32) -> Self {
        Self {
            x: at.x as f32 + 0.5,
            y: at.y as f32,
            vx: if right { MONSTER_SPEED } else { -MONSTER_SPEED },
            min_x: from as f32 + MONSTER_HALF_WIDTH,
            max_x: to as f32 - MONSTER_HALF_WIDTH,
        }
    }

    /// One step: walk, turning around at the ends.
    pub fn step(&mut self) {
        self.x += self.vx;
        if self.x > self.max_x {
            self.x = self.max_x;
            self.vx = -self.vx.abs();
        } else if self.x < self.min_x {
            self.x = self.min_x;
            self.vx = self.vx.abs();
        }
    }

    /// The hitbox, which is also the drawn box.
    pub fn rect(&self) -> Rect {
        Rect {
            x0: self.x - MONSTER_HALF_WIDTH,
            y0: self.y,
            x1: self.x + MONSTER_HALF_WIDTH,
            y1: self.y + MONSTER_HEIGHT,
        }
    }
}

fn centred(at: TilePos, half: f32) -> Rect {
    let (cx, cy) = (at.x as f32 + 0.5, at.y as f32 + 0.5);
    Rect { x0: cx - half, y0: cy - half, x1: cx + half, y1: cy + half }
}

/// The deadly part of the saw blade in tile `at`.
pub fn saw_hitbox(at: TilePos) -> Rect {
    centred(at, SAW_HIT_HALF)
}

/// The drawn saw blade in tile `at`.
pub fn saw_drawn(at: TilePos) -> Rect {
    centred(at, SAW_DRAWN_HALF)
}

/// The coin in tile `at` (hitbox and drawing).
pub fn coin_rect(at: TilePos) -> Rect {
    centred(at, COIN_HALF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monsters_turn_at_the_ends_of_their_floor() {
        let mut m = Monster::spawn(TilePos { x: 5, y: 3 }, true, 4, 8);
        let (mut lo, mut hi) = (f32::MAX, f32::MIN);
        for _ in 0..200 {
            m.step();
            lo = lo.min(m.rect().x0);
            hi = hi.max(m.rect().x1);
        }
        assert!((lo - 4.0).abs() < 1e-5 && (hi - 8.0).abs() < 1e-5, "{lo} {hi}");
    }
}
