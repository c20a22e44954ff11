//! The level as characters, for debugging and tests.
//!
//! Legend: `#` ground, `~` lava, `x` crate, `$` coin, `*` saw, `M` monster, `@` agent (the tile
//! of its feet), `.` air. Rows run top to bottom from a little above the highest section;
//! columns from the left wall to the wall after the coin.

use std::fmt::Write;

use super::generate::{LEVEL_HEIGHT, Tile};
use super::world::World;

/// Rows of air shown above the highest section.
const HEADROOM: i32 = 4;

/// The text picture of `world`.
pub fn render(world: &World) -> String {
    let level = world.level();
    let top = (level.max_height() + HEADROOM).min(LEVEL_HEIGHT - 1);
    let right = (level.coin.x + 1).min(level.grid.width() - 1);
    let cell = |x: i32, y: i32| -> char {
        let at = |fx: f32, fy: f32| fx.floor() as i32 == x && (fy + 1e-4).floor() as i32 == y;
        if at(world.agent.x, world.agent.y) {
            '@'
        } else if world.monsters.iter().any(|m| at(m.x, m.y)) {
            'M'
        } else if level.saws.iter().any(|s| (s.x, s.y) == (x, y)) {
            '*'
        } else if (level.coin.x, level.coin.y) == (x, y) {
            '$'
        } else {
            match level.grid.get(x, y) {
                Tile::Empty => '.',
                Tile::Wall => '#',
                Tile::Lava => '~',
                Tile::Crate(_) => 'x',
            }
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "level {} difficulty {} step {}", level.seed, level.difficulty, world.time);
    for y in (0..=top).rev() {
        out.extend((0..=right).map(|x| cell(x, y)));
        out.push('\n');
    }
    out
}
