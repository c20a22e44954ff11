//! Procedural pictures of tiles and characters, rasterized at any scale from shape functions
//! (no asset files). A shape function maps a point of the sprite's box, in tiles from its
//! top-left corner, to a colour or nothing (transparent).

use super::entities::{MONSTER_HALF_WIDTH, MONSTER_HEIGHT};
use super::physics::{AGENT_HALF_WIDTH, AGENT_HEIGHT};
use super::theme::{GroundPattern, MonsterShape, Rgb, Theme, mix, shade};
use std::f32::consts::TAU;

/// A picture with coverage: `rgba[y * width + x]`, alpha 0 (transparent) to 255 (opaque).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sprite {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Pixels, row-major.
    pub rgba: Vec<[u8; 4]>,
    /// The pixels' colours without coverage, for copying whole rows of opaque sprites.
    pub rgb: Vec<u8>,
    /// Every pixel is fully covered.
    pub opaque: bool,
}

impl Sprite {
    /// Rasterizes `shape` over a box of `w x h` tiles at `scale` pixels per tile, averaging
    /// `ss x ss` samples per pixel (1: hard edges, for observations).
    pub fn rasterize(w: f32, h: f32, scale: usize, ss: usize, shape: impl Fn(f32, f32) -> Option<Rgb>) -> Sprite {
        let (width, height) = (pixels(w, scale), pixels(h, scale));
        let (kx, ky) = (w / width as f32, h / height as f32);
        let mut rgba = Vec::with_capacity(width * height);
        for py in 0..height {
            for px in 0..width {
                let (mut sum, mut n) = ([0u32; 3], 0u32);
                for sy in 0..ss {
                    for sx in 0..ss {
                        let u = (px as f32 + (sx as f32 + 0.5) / ss as f32) * kx;
                        let v = (py as f32 + (sy as f32 + 0.5) / ss as f32) * ky;
                        if let Some(c) = shape(u, v) {
                            (0..3).for_each(|i| sum[i] += u32::from(c[i]));
                            n += 1;
                        }
                    }
                }
                let alpha = (n * 255 / (ss * ss) as u32) as u8;
                let c = sum.map(|s| s.checked_div(n).unwrap_or(0) as u8);
                rgba.push([c[0], c[1], c[2], alpha]);
            }
        }
        let opaque = rgba.iter().all(|p| p[3] == 255);
        let rgb = rgba.iter().flat_map(|p| [p[0], p[1], p[2]]).collect();
        Sprite { width, height, rgba, rgb, opaque }
    }
}

/// The pixel size of a length of `tiles` at `scale` (at least one pixel).
pub fn pixels(tiles: f32, scale: usize) -> usize {
    ((tiles * scale as f32).round() as usize).max(1)
}

/// A stable hash of a grid cell, for texture noise.
fn hash2(x: i32, y: i32, salt: u32) -> u32 {
    let mut h = (x as u32).wrapping_mul(0x27d4_eb2d) ^ (y as u32).wrapping_mul(0x1656_67b1) ^ salt;
    h ^= h >> 15;
    h = h.wrapping_mul(0x2c1b_3c6d);
    h ^ (h >> 12)
}

fn circle(u: f32, v: f32, cx: f32, cy: f32, r: f32) -> bool {
    (u - cx) * (u - cx) + (v - cy) * (v - cy) < r * r
}

fn in_box(u: f32, v: f32, x0: f32, y0: f32, x1: f32, y1: f32) -> bool {
    u >= x0 && u < x1 && v >= y0 && v < y1
}

/// A ground tile; `top` when nothing solid lies above it.
pub fn ground(theme: &Theme, top: bool) -> impl Fn(f32, f32) -> Option<Rgb> + '_ {
    move |u, v| {
        if top {
            let edge = 0.26 + 0.05 * (u * TAU * 2.0).sin();
            if v < edge {
                return Some(if v < 0.08 { shade(theme.ground_top, 1.15) } else { theme.ground_top });
            }
            if v < edge + 0.07 {
                return Some(shade(theme.ground_top, 0.6));
            }
        }
        let (dark, light) = (shade(theme.ground, 0.72), shade(theme.ground, 1.22));
        Some(match theme.pattern {
            GroundPattern::Speckles => match hash2((u * 6.0) as i32, (v * 6.0) as i32, theme.texture_salt) % 7 {
                0 => dark,
                1 => light,
                _ => theme.ground,
            },
            GroundPattern::Bricks => {
                let row = (v * 3.0) as i32;
                let bx = (u * 2.0 + 0.5 * (row % 2) as f32).fract();
                if (v * 3.0).fract() < 0.14 || bx < 0.07 { dark } else { theme.ground }
            }
            GroundPattern::Stripes => {
                if ((u + v) * 3.0).fract() < 0.3 {
                    dark
                } else {
                    theme.ground
                }
            }
            GroundPattern::Pebbles => {
                let stones = [(0.25, 0.3, 0.17), (0.72, 0.55, 0.2), (0.3, 0.8, 0.14)];
                if stones.iter().any(|&(x, y, r)| circle(u, v, x, y, r)) { light } else { theme.ground }
            }
        })
    }
}

/// A lava tile; `top` at the surface (its upper edge is a wave with air above).
pub fn lava(top: bool) -> impl Fn(f32, f32) -> Option<Rgb> {
    move |u, v| {
        if top && v < 0.2 + 0.08 * (u * TAU * 2.0).sin() {
            return None;
        }
        let glow = (u * TAU + v * 5.0).sin() + 0.6 * (v * TAU * 1.5 - u * 3.0).cos();
        Some(if glow > 0.9 { [255, 214, 80] } else { [236, 92, 24] })
    }
}

/// A crate of look `look` (0..4: cross, planks, framed, warning stripes).
pub fn crate_box(theme: &Theme, look: u8) -> impl Fn(f32, f32) -> Option<Rgb> + '_ {
    move |u, v| {
        let dark = shade(theme.wood, 0.55);
        if !(0.1..=0.9).contains(&u) || !(0.1..=0.9).contains(&v) {
            return Some(dark);
        }
        let marked = match look {
            0 => (u - v).abs() < 0.09 || (u + v - 1.0).abs() < 0.09,
            1 => (v * 3.0).fract() < 0.15,
            2 => in_box(u, v, 0.22, 0.22, 0.78, 0.78) && !in_box(u, v, 0.3, 0.3, 0.7, 0.7),
            _ => {
                if in_box(u, v, 0.1, 0.35, 0.9, 0.65) {
                    return Some(if ((u + v) * 4.0).fract() < 0.5 { [240, 200, 30] } else { [30, 30, 30] });
                }
                false
            }
        };
        Some(if marked { dark } else { theme.wood })
    }
}

/// The coin, in its tile.
pub fn coin(u: f32, v: f32) -> Option<Rgb> {
    let d = ((u - 0.5).powi(2) + (v - 0.5).powi(2)).sqrt();
    if d >= 0.35 {
        None
    } else if circle(u, v, 0.4, 0.38, 0.07) {
        Some([255, 250, 200])
    } else if (0.17..0.23).contains(&d) || d > 0.3 {
        Some([200, 140, 20])
    } else {
        Some([252, 204, 44])
    }
}

/// A saw blade, in its tile.
pub fn saw(u: f32, v: f32) -> Option<Rgb> {
    let (dx, dy) = (u - 0.5, v - 0.5);
    let d = (dx * dx + dy * dy).sqrt();
    let tooth = (dy.atan2(dx) / TAU * 10.0).rem_euclid(1.0);
    if d >= 0.36 + 0.09 * tooth {
        None
    } else if d < 0.12 {
        Some([80, 80, 92])
    } else {
        Some(mix([150, 152, 165], [225, 228, 235], 1.0 - d / 0.45))
    }
}

/// How the agent is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pose {
    /// Standing.
    Stand,
    /// First walking frame.
    Walk1,
    /// Second walking frame.
    Walk2,
    /// In the air.
    Jump,
}

impl Pose {
    /// Every pose, in index order.
    pub const ALL: [Pose; 4] = [Pose::Stand, Pose::Walk1, Pose::Walk2, Pose::Jump];
}

/// The agent in `pose`, facing right or left, over its hitbox (0.8 x 1.2 tiles).
pub fn agent(theme: &Theme, pose: Pose, right: bool) -> impl Fn(f32, f32) -> Option<Rgb> + '_ {
    let w = 2.0 * AGENT_HALF_WIDTH;
    move |u, v| {
        let u = if right { u } else { w - u };
        let (body, dark) = (theme.player, shade(theme.player, 0.7));
        if circle(u, v, 0.6, 0.34, 0.045) {
            return Some([20, 20, 30]);
        }
        if circle(u, v, 0.55, 0.33, 0.12) {
            return Some(theme.visor);
        }
        if circle(u, v, 0.4, 0.36, 0.34) {
            return Some(body);
        }
        if in_box(u, v, 0.14, 0.62, 0.66, 0.98) {
            return Some(if v > 0.9 { dark } else { body });
        }
        let (legs, arm_up) = match pose {
            Pose::Stand => ([0.18, 0.44], false),
            Pose::Walk1 => ([0.1, 0.5], false),
            Pose::Walk2 => ([0.26, 0.38], false),
            Pose::Jump => ([0.12, 0.52], true),
        };
        let leg_bottom = if arm_up { 1.08 } else { AGENT_HEIGHT };
        if legs.iter().any(|&x| in_box(u, v, x, 0.96, x + 0.18, leg_bottom)) {
            return Some(dark);
        }
        if arm_up && in_box(u, v, 0.62, 0.5, 0.76, 0.72) {
            return Some(body);
        }
        None
    }
}

/// A walking monster (animation frame 0 or 1), facing right or left, over its hitbox
/// (0.8 x 0.7 tiles).
pub fn monster(theme: &Theme, frame: u32, right: bool) -> impl Fn(f32, f32) -> Option<Rgb> + '_ {
    let (w, h) = (2.0 * MONSTER_HALF_WIDTH, MONSTER_HEIGHT);
    let squash = if frame == 0 { 0.0 } else { 0.06 };
    move |u, v| {
        let u = if right { u } else { w - u };
        let (body, accent) = (theme.monster, theme.monster_accent);
        if circle(u, v, 0.62, 0.3 + squash, 0.045) {
            return Some([15, 15, 15]);
        }
        if circle(u, v, 0.6, 0.3 + squash, 0.1) {
            return Some([250, 250, 250]);
        }
        let hit = match theme.monster_shape {
            MonsterShape::Slime => {
                let (rx, ry) = (w / 2.0 + squash, h - 0.05 - squash);
                ((u - w / 2.0) / rx).powi(2) + ((v - h) / ry).powi(2) < 1.0
            }
            MonsterShape::Block => in_box(u, v, 0.04 - squash, 0.08 + squash, w - 0.04 + squash, h),
            MonsterShape::Snail => {
                if circle(u, v, 0.32, 0.34 + squash, 0.26) {
                    let ring = ((u - 0.32).powi(2) + (v - 0.34 - squash).powi(2)).sqrt();
                    return Some(if (0.1..0.15).contains(&ring) { shade(accent, 0.6) } else { accent });
                }
                in_box(u, v, 0.02, 0.55, w, h) || circle(u, v, 0.64, 0.36 + squash, 0.13)
            }
            MonsterShape::Bug => {
                let spots = circle(u, v, 0.3, 0.42, 0.07) || circle(u, v, 0.48, 0.52, 0.06);
                let shell = ((u - w / 2.0) / 0.38).powi(2) + ((v - 0.42 - squash) / 0.26).powi(2) < 1.0;
                if shell && spots {
                    return Some(accent);
                }
                shell || (v > 0.6 && ((u * 5.0 + frame as f32 * 0.5).fract() < 0.25))
            }
        };
        hit.then_some(if v > h - 0.08 { shade(body, 0.7) } else { body })
    }
}

/// The monster's hitbox size in tiles (width, height).
pub fn monster_size() -> (f32, f32) {
    (2.0 * MONSTER_HALF_WIDTH, MONSTER_HEIGHT)
}

/// The agent's hitbox size in tiles (width, height).
pub fn agent_size() -> (f32, f32) {
    (2.0 * AGENT_HALF_WIDTH, AGENT_HEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rasterized_sizes_and_coverage() {
        let s = Sprite::rasterize(1.0, 1.0, 5, 1, coin);
        assert_eq!((s.width, s.height, s.rgba.len()), (5, 5, 25));
        assert_eq!(s.rgba[12][3], 255, "the centre is covered");
        assert_eq!(s.rgba[0][3], 0, "the corner is transparent");
        let (w, h) = agent_size();
        let t = Theme::default();
        let a = Sprite::rasterize(w, h, 20, 2, agent(&t, Pose::Stand, true));
        assert_eq!((a.width, a.height), (16, 24));
        assert!(a.rgba.iter().any(|p| p[3] > 0 && p[3] < 255), "supersampling gives soft edges");
        let mirrored = Sprite::rasterize(w, h, 20, 1, agent(&t, Pose::Stand, false));
        let right = Sprite::rasterize(w, h, 20, 1, agent(&t, Pose::Stand, true));
        for y in 0..24 {
            for x in 0..16 {
                assert_eq!(right.rgba[y * 16 + x], mirrored.rgba[y * 16 + 15 - x]);
            }
        }
    }
}
