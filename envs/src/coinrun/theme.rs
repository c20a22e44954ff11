//! A level's look, drawn from the level seed: player colour, ground colours and pattern, crate
//! wood, monster shape and colours, background picture. Visual diversity is part of what an
//! agent must generalize over, so every level draws its own.

use super::options::CoinRunOptions;
use super::rng::{LevelRng, Stream};

/// An RGB colour.
pub type Rgb = [u8; 3];

/// The texture of ground tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroundPattern {
    /// Scattered light and dark grains.
    Speckles,
    /// Courses of bricks.
    Bricks,
    /// Diagonal bands.
    Stripes,
    /// Round stones.
    Pebbles,
}

/// The body plan of the walking monsters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonsterShape {
    /// A dome of jelly.
    Slime,
    /// A rounded block.
    Block,
    /// A shell on a foot.
    Snail,
    /// A spotted beetle.
    Bug,
}

/// The kind of background picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BackgroundKind {
    /// One colour (used when backgrounds are off).
    #[default]
    Plain,
    /// A vertical blend of two colours.
    Gradient,
    /// Slanted bands.
    Stripes,
    /// A sky over two ranges of rolling hills.
    Hills,
    /// Dots on a dark sky.
    Stars,
    /// A soft checkerboard.
    Checker,
    /// Wavy horizontal bands.
    Waves,
}

impl BackgroundKind {
    /// Every kind but [`BackgroundKind::Plain`]: the pictures a level draws from.
    pub const PICTURES: [BackgroundKind; 6] = [
        BackgroundKind::Gradient,
        BackgroundKind::Stripes,
        BackgroundKind::Hills,
        BackgroundKind::Stars,
        BackgroundKind::Checker,
        BackgroundKind::Waves,
    ];
}

/// A procedural background, defined in world units so that it looks the same at any scale.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Background {
    /// Which picture.
    pub kind: BackgroundKind,
    /// Its colours.
    pub colors: [Rgb; 3],
    /// Its feature size in tiles.
    pub scale: f32,
    /// Its phase (shifts and angles).
    pub phase: f32,
}

/// Every colour and shape choice of a level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    /// The player's body.
    pub player: Rgb,
    /// The player's visor.
    pub visor: Rgb,
    /// Ground tiles' body.
    pub ground: Rgb,
    /// The top layer of exposed ground (grass, snow, sand...).
    pub ground_top: Rgb,
    /// Ground texture.
    pub pattern: GroundPattern,
    /// Crate wood.
    pub wood: Rgb,
    /// The monsters' body.
    pub monster: Rgb,
    /// The monsters' second colour (shell, spots).
    pub monster_accent: Rgb,
    /// The monsters' body plan.
    pub monster_shape: MonsterShape,
    /// The background.
    pub background: Background,
    /// Salt for texture noise.
    pub texture_salt: u32,
}

/// The background when backgrounds are off.
const PLAIN_BACKGROUND: Background =
    Background { kind: BackgroundKind::Plain, colors: [[28, 30, 40]; 3], scale: 1.0, phase: 0.0 };

impl Default for Theme {
    /// The fixed look used with `restrict_themes`.
    fn default() -> Self {
        Self {
            player: [226, 200, 150],
            visor: [240, 250, 255],
            ground: [140, 94, 58],
            ground_top: [96, 170, 64],
            pattern: GroundPattern::Speckles,
            wood: [176, 120, 60],
            monster: [110, 200, 90],
            monster_accent: [50, 110, 40],
            monster_shape: MonsterShape::Slime,
            background: PLAIN_BACKGROUND,
            texture_salt: 0,
        }
    }
}

/// A colour from hue, saturation and value, each in `[0, 1]`.
pub fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let h6 = h.rem_euclid(1.0) * 6.0;
    let c = v * s;
    let x = c * (1.0 - (h6 % 2.0 - 1.0).abs());
    let (r, g, b) = match h6 as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r, g, b].map(|ch| ((ch + m) * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// `c` scaled by `k` (darker below 1, lighter above).
pub fn shade(c: Rgb, k: f32) -> Rgb {
    c.map(|ch| (f32::from(ch) * k).round().clamp(0.0, 255.0) as u8)
}

/// The blend `a + (b - a) t` with `t` in `[0, 1]`.
pub fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    std::array::from_fn(|i| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t + 0.5) as u8)
}

impl Theme {
    /// The look of level `seed` under `options`.
    pub fn generate(seed: u64, options: &CoinRunOptions) -> Theme {
        let mut rng = LevelRng::new(seed, Stream::Theme);
        let drawn = Self::draw(&mut rng);
        let background = Self::draw_background(&mut rng);
        let look = if options.restrict_themes { Theme::default() } else { drawn };
        Theme { background: if options.use_backgrounds { background } else { PLAIN_BACKGROUND }, ..look }
    }

    fn draw(rng: &mut LevelRng) -> Theme {
        let ground_hue = rng.range(0.0, 1.0);
        Theme {
            player: hsv(rng.range(0.0, 1.0), rng.range(0.45, 0.9), rng.range(0.75, 1.0)),
            visor: hsv(rng.range(0.0, 1.0), rng.range(0.0, 0.3), 1.0),
            ground: hsv(ground_hue, rng.range(0.25, 0.6), rng.range(0.35, 0.65)),
            ground_top: hsv(rng.range(0.0, 1.0), rng.range(0.2, 0.8), rng.range(0.65, 0.95)),
            pattern: [GroundPattern::Speckles, GroundPattern::Bricks, GroundPattern::Stripes, GroundPattern::Pebbles]
                [rng.below(4) as usize],
            wood: hsv(rng.range(0.04, 0.13), rng.range(0.45, 0.8), rng.range(0.5, 0.8)),
            monster: hsv(rng.range(0.0, 1.0), rng.range(0.55, 1.0), rng.range(0.6, 1.0)),
            monster_accent: hsv(rng.range(0.0, 1.0), rng.range(0.4, 0.9), rng.range(0.3, 0.7)),
            monster_shape: [MonsterShape::Slime, MonsterShape::Block, MonsterShape::Snail, MonsterShape::Bug]
                [rng.below(4) as usize],
            background: PLAIN_BACKGROUND,
            texture_salt: rng.next_u64() as u32,
        }
    }

    fn draw_background(rng: &mut LevelRng) -> Background {
        let kinds = BackgroundKind::PICTURES;
        let kind = kinds[rng.below(kinds.len() as u32) as usize];
        let colors = [(); 3].map(|_| hsv(rng.range(0.0, 1.0), rng.range(0.1, 0.6), rng.range(0.25, 0.9)));
        Background { kind, colors, scale: rng.range(2.0, 8.0), phase: rng.range(0.0, std::f32::consts::TAU) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_primaries() {
        assert_eq!(hsv(0.0, 1.0, 1.0), [255, 0, 0]);
        assert_eq!(hsv(1.0 / 3.0, 1.0, 1.0), [0, 255, 0]);
        assert_eq!(hsv(2.0 / 3.0, 1.0, 1.0), [0, 0, 255]);
        assert_eq!(hsv(0.5, 0.0, 0.5), [128, 128, 128]);
    }

    #[test]
    fn themes_follow_seed_and_options() {
        let o = CoinRunOptions::default();
        assert_eq!(Theme::generate(4, &o), Theme::generate(4, &o));
        assert_ne!(Theme::generate(4, &o), Theme::generate(5, &o));
        let restricted = CoinRunOptions { restrict_themes: true, use_backgrounds: false, ..o };
        assert_eq!(Theme::generate(4, &restricted), Theme::default());
        assert_eq!(Theme::generate(4, &restricted), Theme::generate(5, &restricted));
    }
}
