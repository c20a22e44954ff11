//! Drawing. A level's static picture (background, tiles, coin, saws) is painted once per level
//! into a canvas; each frame copies the camera's window out of it (one row copy per line) and
//! draws the agent and the monsters on top, so a step costs little more than a 12 KB copy.

use super::background::{Backdrop, Column};
use super::entities::{coin_rect, saw_drawn};
use super::generate::{CRATE_LOOKS, Level, Tile, TilePos, TileRect};
use super::physics::{AGENT_HEIGHT, MAX_JUMP, MAX_SPEED, Rect};
use super::sprites::{self, Pose, Sprite};
use super::theme::Rgb;
use super::world::World;
use crate::{ObjectBox, ObjectClass};

/// A range of tiles: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TileBounds {
    /// First column.
    pub x0: i32,
    /// First row.
    pub y0: i32,
    /// One past the last column.
    pub x1: i32,
    /// One past the last row.
    pub y1: i32,
}

/// Where the camera looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Centred on the agent.
    Follow,
    /// The painted bounds' top-left corner (the whole level when the bounds are the level).
    Fixed,
}

/// An RGB image being drawn into.
pub struct Screen<'a> {
    /// Interleaved RGB bytes, row-major.
    pub data: &'a mut [u8],
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

/// A level painted at one scale, ready to draw frames.
#[derive(Debug, Clone, Default)]
pub struct Painter {
    scale: usize,
    bounds: TileBounds,
    canvas: Vec<u8>,
    width: usize,
    height: usize,
    /// Agent sprites by `pose * 2 + facing_right`.
    agent: Vec<Sprite>,
    /// Monster sprites by `frame * 2 + facing_right`.
    monsters: Vec<Sprite>,
    tiles: TileSprites,
    backdrop: Backdrop,
    /// The background's per-column terms, one per canvas pixel column.
    columns: Vec<Column>,
    /// Painted tile columns `[lo, hi)` of each canvas tile row.
    painted: Vec<(i32, i32)>,
    /// The static objects' boxes (world units).
    statics: Vec<(ObjectClass, Rect)>,
    /// The colour outside the canvas.
    outside: Rgb,
}

/// The agent's pose for drawing.
fn pose(world: &World) -> Pose {
    if !world.agent.supported {
        Pose::Jump
    } else if world.agent.vx == 0.0 {
        Pose::Stand
    } else if (world.time / 5).is_multiple_of(2) {
        Pose::Walk1
    } else {
        Pose::Walk2
    }
}

/// Copies `sprite` into `screen` with its top-left corner at `(left, top)`, clipped.
fn blit(screen: &mut Screen, sprite: &Sprite, left: i64, top: i64) {
    let inside = left >= 0
        && top >= 0
        && left as usize + sprite.width <= screen.width
        && top as usize + sprite.height <= screen.height;
    if sprite.opaque && inside {
        let row_bytes = sprite.width * 3;
        for (sy, src) in sprite.rgb.chunks_exact(row_bytes).enumerate() {
            let start = ((top as usize + sy) * screen.width + left as usize) * 3;
            screen.data[start..start + row_bytes].copy_from_slice(src);
        }
        return;
    }
    for sy in 0..sprite.height {
        let y = top + sy as i64;
        if y < 0 || y >= screen.height as i64 {
            continue;
        }
        for sx in 0..sprite.width {
            let x = left + sx as i64;
            let [r, g, b, a] = sprite.rgba[sy * sprite.width + sx];
            if a == 0 || x < 0 || x >= screen.width as i64 {
                continue;
            }
            let i = (y as usize * screen.width + x as usize) * 3;
            let px = &mut screen.data[i..i + 3];
            if a == 255 {
                px.copy_from_slice(&[r, g, b]);
            } else {
                let blend = |dst: u8, src: u8| {
                    ((u32::from(dst) * (255 - u32::from(a)) + u32::from(src) * u32::from(a)) / 255) as u8
                };
                px.copy_from_slice(&[blend(px[0], r), blend(px[1], g), blend(px[2], b)]);
            }
        }
    }
}

/// Fills a rectangle of `screen`, clipped.
fn fill(screen: &mut Screen, x0: usize, y0: usize, x1: usize, y1: usize, c: Rgb) {
    for y in y0..y1.min(screen.height) {
        for x in x0..x1.min(screen.width) {
            screen.data[(y * screen.width + x) * 3..][..3].copy_from_slice(&c);
        }
    }
}

/// The box of a rectangle of tiles.
fn tile_rect(r: TileRect) -> Rect {
    Rect { x0: r.x as f32, y0: r.y as f32, x1: (r.x + r.width) as f32, y1: (r.y + r.height) as f32 }
}

/// The pictures of a level's tiles at one scale.
#[derive(Debug, Clone, Default)]
struct TileSprites {
    /// Ground inside, ground at the surface.
    ground: [Sprite; 2],
    /// Lava inside, lava at the surface.
    lava: [Sprite; 2],
    /// Crates by look.
    crates: Vec<Sprite>,
    coin: Sprite,
    saw: Sprite,
}

impl Painter {
    /// Prepares to paint `level` over `bounds` at `scale` pixels per tile, with `ss x ss`
    /// samples per pixel for sprites (1 for observations), reusing this painter's memory. Tiles
    /// are painted when the camera first sees them.
    pub fn prepare(&mut self, level: &Level, scale: usize, bounds: TileBounds, ss: usize) {
        let theme = &level.theme;
        self.scale = scale;
        self.bounds = bounds;
        let (cols, rows) = ((bounds.x1 - bounds.x0).max(0), (bounds.y1 - bounds.y0).max(0));
        self.width = cols as usize * scale;
        self.height = rows as usize * scale;
        self.outside = theme.background.colors[0];
        self.canvas.resize(self.width * self.height * 3, 0);
        self.painted.clear();
        self.painted.resize(rows as usize, (0, 0));
        let tile = |shape: &dyn Fn(f32, f32) -> Option<Rgb>| Sprite::rasterize(1.0, 1.0, scale, ss, shape);
        self.tiles = TileSprites {
            ground: [tile(&sprites::ground(theme, false)), tile(&sprites::ground(theme, true))],
            lava: [tile(&sprites::lava(false)), tile(&sprites::lava(true))],
            crates: (0..CRATE_LOOKS).map(|look| tile(&sprites::crate_box(theme, look))).collect(),
            coin: tile(&sprites::coin),
            saw: tile(&sprites::saw),
        };
        self.backdrop = Backdrop::new(&theme.background);
        let step = 1.0 / scale as f32;
        self.columns = self.backdrop.columns(bounds.x0 as f32 + step / 2.0, step, self.width);
        let (aw, ah) = sprites::agent_size();
        self.agent = Pose::ALL
            .iter()
            .flat_map(|&p| {
                [false, true].map(|right| Sprite::rasterize(aw, ah, scale, ss, sprites::agent(theme, p, right)))
            })
            .collect();
        let (mw, mh) = sprites::monster_size();
        self.monsters = (0..2)
            .flat_map(|f| {
                [false, true].map(|right| Sprite::rasterize(mw, mh, scale, ss, sprites::monster(theme, f, right)))
            })
            .collect();
        self.statics.clear();
        self.statics.push((ObjectClass::Goal, coin_rect(level.coin)));
        self.statics.extend(level.saws.iter().map(|&s| (ObjectClass::Saw, saw_drawn(s))));
        self.statics.extend(level.lava_pools.iter().map(|&p| (ObjectClass::Lava, tile_rect(p))));
        let crate_tile = |c: &TilePos| tile_rect(TileRect { x: c.x, y: c.y, width: 1, height: 1 });
        self.statics.extend(level.crates.iter().map(|c| (ObjectClass::Crate, crate_tile(c))));
    }

    /// Paints the canvas tiles of rows `rows` and columns `cols` (canvas tile indices, top row
    /// 0) not painted yet. Each row keeps one painted interval of columns; a request beyond it
    /// paints the columns in between too.
    fn ensure(&mut self, level: &Level, rows: std::ops::Range<usize>, cols: std::ops::Range<i32>) {
        for r in rows {
            let (lo, hi) = self.painted[r];
            let (new_lo, new_hi) =
                if lo < hi { (lo.min(cols.start), hi.max(cols.end)) } else { (cols.start, cols.end) };
            let (left, right) = if lo < hi { (new_lo..lo, hi..new_hi) } else { (new_lo..new_hi, 0..0) };
            for c in left.chain(right) {
                self.paint_tile(level, r, c);
            }
            self.painted[r] = (new_lo, new_hi);
        }
    }

    /// Paints canvas tile `(r, c)`: background where the tile is not opaque, the tile, and the
    /// coin or a saw standing in it.
    fn paint_tile(&mut self, level: &Level, r: usize, c: i32) {
        let (tx, ty) = (self.bounds.x0 + c, self.bounds.y1 - 1 - r as i32);
        let grid = &level.grid;
        let above = grid.get(tx, ty + 1);
        let tiles = &self.tiles;
        let sprite = match grid.get(tx, ty) {
            Tile::Empty => None,
            Tile::Wall => Some(&tiles.ground[usize::from(!above.is_solid())]),
            Tile::Lava => Some(&tiles.lava[usize::from(above != Tile::Lava)]),
            Tile::Crate(look) => Some(&tiles.crates[usize::from(look) % tiles.crates.len()]),
        };
        let (left, top) = (c as usize * self.scale, r * self.scale);
        if !sprite.is_some_and(|s| s.opaque) {
            let step = 1.0 / self.scale as f32;
            let out = &mut self.canvas[(top * self.width + left) * 3..];
            let columns = &self.columns[left..left + self.scale];
            self.backdrop.paint(columns, (ty + 1) as f32 - step / 2.0, step, self.scale, out, self.width * 3);
        }
        let here = TilePos { x: tx, y: ty };
        let overlay =
            if level.coin == here { Some(&tiles.coin) } else { level.saws.contains(&here).then_some(&tiles.saw) };
        let mut screen = Screen { data: &mut self.canvas, width: self.width, height: self.height };
        for s in sprite.into_iter().chain(overlay) {
            blit(&mut screen, s, left as i64, top as i64);
        }
    }

    fn px_x(&self, x: f32) -> f32 {
        (x - self.bounds.x0 as f32) * self.scale as f32
    }

    fn px_y(&self, y: f32) -> f32 {
        (self.bounds.y1 as f32 - y) * self.scale as f32
    }

    /// The canvas pixel at the screen's top-left corner.
    fn origin(&self, world: &World, view: View, screen: &Screen) -> (i64, i64) {
        match view {
            View::Fixed => (0, 0),
            View::Follow => {
                let (cx, cy) = (world.agent.x, world.agent.y + AGENT_HEIGHT / 2.0);
                let ox = self.px_x(cx).round() as i64 - (screen.width / 2) as i64;
                let oy = self.px_y(cy).round() as i64 - (screen.height / 2) as i64;
                (ox, oy)
            }
        }
    }

    /// True when the window of `view` on `world` lies inside the painted canvas.
    #[cfg(test)]
    pub fn covers(&self, world: &World, view: View, width: usize, height: usize) -> bool {
        let screen = Screen { data: &mut [], width, height };
        let (ox, oy) = self.origin(world, view, &screen);
        ox >= 0 && oy >= 0 && ox as usize + width <= self.width && oy as usize + height <= self.height
    }

    /// Draws the frame of `world` seen through `view` into `screen`, and the boxes of the
    /// visible objects into `objects` (screen pixels, clipped) when given.
    pub fn draw(
        &mut self,
        world: &World,
        view: View,
        screen: &mut Screen,
        vel_info: bool,
        mut objects: Option<&mut Vec<ObjectBox>>,
    ) {
        let (ox, oy) = self.origin(world, view, screen);
        let s = self.scale as i64;
        let cols = (ox.div_euclid(s).max(0), (ox + screen.width as i64 + s - 1).div_euclid(s));
        let rows = (oy.div_euclid(s).max(0), (oy + screen.height as i64 + s - 1).div_euclid(s));
        let (ncols, nrows) = ((self.width / self.scale) as i64, self.painted.len() as i64);
        let (c0, c1) = (cols.0.min(ncols), cols.1.clamp(0, ncols));
        let (r0, r1) = (rows.0.min(nrows), rows.1.clamp(0, nrows));
        self.ensure(world.level(), r0 as usize..r1 as usize, c0 as i32..c1 as i32);
        self.copy_window(screen, ox, oy);
        let mut boxes = |class, x0: f32, y0: f32, x1: f32, y1: f32, screen: &Screen| {
            if let Some(out) = objects.as_deref_mut() {
                let (w, h) = (screen.width as f32, screen.height as f32);
                let b = ObjectBox {
                    class,
                    x1: x0.clamp(0.0, w),
                    y1: y0.clamp(0.0, h),
                    x2: x1.clamp(0.0, w),
                    y2: y1.clamp(0.0, h),
                };
                if b.x2 > b.x1 && b.y2 > b.y1 {
                    out.push(b);
                }
            }
        };
        let mut sprite_at = |class, sprite: &Sprite, r: Rect, screen: &mut Screen| {
            let left = self.px_x(r.x0).round() as i64 - ox;
            let top = self.px_y(r.y1).round() as i64 - oy;
            blit(screen, sprite, left, top);
            let (l, t) = (left as f32, top as f32);
            boxes(class, l, t, l + sprite.width as f32, t + sprite.height as f32, screen);
        };
        let frame = (world.time / 5 % 2) as usize;
        for m in &world.monsters {
            sprite_at(ObjectClass::Monster, &self.monsters[frame * 2 + usize::from(m.vx > 0.0)], m.rect(), screen);
        }
        let agent = &self.agent[pose(world) as usize * 2 + usize::from(world.facing_right)];
        sprite_at(ObjectClass::Agent, agent, world.agent.rect(), screen);
        for &(class, r) in &self.statics {
            let (x0, x1) = (self.px_x(r.x0) - ox as f32, self.px_x(r.x1) - ox as f32);
            let (y0, y1) = (self.px_y(r.y1) - oy as f32, self.px_y(r.y0) - oy as f32);
            boxes(class, x0, y0, x1, y1, screen);
        }
        if vel_info {
            paint_vel_info(world, screen);
        }
    }

    /// Copies the canvas window at `(ox, oy)` into `screen`; outside the canvas is plain.
    fn copy_window(&self, screen: &mut Screen, ox: i64, oy: i64) {
        let w = screen.width;
        let x_from = ox.clamp(0, self.width as i64) as usize;
        let x_to = (ox + w as i64).clamp(0, self.width as i64) as usize;
        let lead = (x_from as i64 - ox).clamp(0, w as i64) as usize;
        for r in 0..screen.height {
            let row = &mut screen.data[r * w * 3..(r + 1) * w * 3];
            let cy = oy + r as i64;
            if cy < 0 || cy >= self.height as i64 || x_to <= x_from {
                row.chunks_exact_mut(3).for_each(|p| p.copy_from_slice(&self.outside));
                continue;
            }
            let src = &self.canvas[(cy as usize * self.width + x_from) * 3..(cy as usize * self.width + x_to) * 3];
            let (left, rest) = row.split_at_mut(lead * 3);
            left.chunks_exact_mut(3).for_each(|p| p.copy_from_slice(&self.outside));
            rest[..src.len()].copy_from_slice(src);
            rest[src.len()..].chunks_exact_mut(3).for_each(|p| p.copy_from_slice(&self.outside));
        }
    }
}

/// Grey level of `f` in `[0, 1]`.
fn to_shade(f: f32) -> u8 {
    (f * 255.0).clamp(0.0, 255.0) as u8
}

/// Two grey squares in the top-left corner, a fifth of the screen high: the horizontal and
/// vertical speeds (mid grey at rest), as the original CoinRun's `paint_vel_info`.
fn paint_vel_info(world: &World, screen: &mut Screen) {
    let dim = screen.height / 5;
    let sx = to_shade(0.5 * world.agent.vx / MAX_SPEED + 0.5);
    let sy = to_shade(0.5 * world.agent.vy / MAX_JUMP + 0.5);
    fill(screen, 0, 0, dim, dim, [sx; 3]);
    fill(screen, dim, 0, 2 * dim, dim, [sy; 3]);
}
