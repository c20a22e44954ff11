//! Procedural background pictures, as functions of world position (tiles, y up) so they look the
//! same at every scale. They are painted behind the level, fixed to the world. Each picture is
//! split into a per-column part (the trigonometry) and a cheap per-pixel part reading colours
//! prepared once per level.

use super::theme::{Background, BackgroundKind, Rgb, mix};

/// Height over which gradients and skies blend, in tiles.
const SKY_SPAN: f32 = 40.0;
/// Steps of a prepared blend.
const RAMP: usize = 256;

/// `v.floor()` without a libm call (baseline x86-64 has no rounding instruction).
fn floor(v: f32) -> f32 {
    let t = v as i32 as f32;
    if t > v { t - 1.0 } else { t }
}

fn fract(v: f32) -> f32 {
    v - floor(v)
}

/// The per-column terms of a background at world x.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    x: f32,
    /// Hills: far ridge height; waves: vertical offset; stripes: x's share of the band.
    a: f32,
    /// Hills: near ridge height; stripes: y's weight.
    b: f32,
}

/// A background with its colours prepared for painting.
#[derive(Debug, Clone, Default)]
pub struct Backdrop {
    bg: Background,
    /// The flat colours of the picture's parts.
    flat: [Rgb; 3],
    /// The picture's blend (gradient, sky) in [`RAMP`] steps.
    ramp: Vec<Rgb>,
}

impl Backdrop {
    /// Prepares `bg`.
    pub fn new(bg: &Background) -> Self {
        let [a, b, c] = bg.colors;
        let (flat, from, to) = match bg.kind {
            BackgroundKind::Plain | BackgroundKind::Gradient => ([a, b, c], a, b),
            BackgroundKind::Stripes => ([a, mix(a, b, 0.6), c], a, a),
            BackgroundKind::Hills => ([c, mix(c, b, 0.5), a], b, a),
            BackgroundKind::Stars => ([mix(b, [255; 3], 0.6), mix(a, [0; 3], 0.7), c], a, a),
            BackgroundKind::Checker => ([a, mix(a, b, 0.35), c], a, a),
            BackgroundKind::Waves => ([a, b, c], a, a),
        };
        let ramp = (0..RAMP).map(|i| mix(from, to, i as f32 / (RAMP - 1) as f32)).collect();
        Self { bg: *bg, flat, ramp }
    }

    fn ramp(&self, t: f32) -> Rgb {
        self.ramp[(t.clamp(0.0, 1.0) * (RAMP - 1) as f32) as usize]
    }

    fn column(&self, x: f32) -> Column {
        let bg = &self.bg;
        let k = bg.scale;
        let (a, b) = match bg.kind {
            BackgroundKind::Hills => (
                8.0 + 3.0 * (x / k + bg.phase).sin() + 1.5 * (x / (0.37 * k)).sin(),
                4.0 + 2.5 * (x / (1.7 * k) + 2.0 * bg.phase).sin(),
            ),
            BackgroundKind::Waves => (1.2 * (x / k * 2.0 + bg.phase).sin(), 0.0),
            BackgroundKind::Stripes => (x * bg.phase.cos(), bg.phase.sin()),
            _ => (0.0, 0.0),
        };
        Column { x, a, b }
    }

    fn color(&self, col: &Column, y: f32) -> Rgb {
        let k = self.bg.scale;
        let [f0, f1, f2] = self.flat;
        match self.bg.kind {
            BackgroundKind::Plain => f0,
            BackgroundKind::Gradient => self.ramp(y / SKY_SPAN),
            BackgroundKind::Stripes => {
                if fract((col.a + y * col.b) / k) < 0.5 {
                    f0
                } else {
                    f1
                }
            }
            BackgroundKind::Hills => {
                if y < col.b {
                    f0
                } else if y < col.a {
                    f1
                } else {
                    self.ramp((y - col.a) / SKY_SPAN)
                }
            }
            BackgroundKind::Stars => {
                let (cx, cy) = (floor(col.x * 2.0) as i32, floor(y * 2.0) as i32);
                let h = (cx.wrapping_mul(73_856_093) ^ cy.wrapping_mul(19_349_663)) as u32;
                if h.wrapping_mul(0x9E37_79B9) >> 27 == 0 { f0 } else { f1 }
            }
            BackgroundKind::Checker => {
                if (floor(col.x / k) as i32 + floor(y / k) as i32) & 1 == 1 {
                    f0
                } else {
                    f1
                }
            }
            BackgroundKind::Waves => [f0, f1, f2][(floor((y + col.a) / k * 2.0) as i32).rem_euclid(3) as usize],
        }
    }

    /// The per-column terms of `n` pixel columns from world `x0`, `step` tiles apart.
    pub fn columns(&self, x0: f32, step: f32, n: usize) -> Vec<Column> {
        (0..n).map(|i| self.column(x0 + i as f32 * step)).collect()
    }

    /// Paints a block of an RGB image (`stride` bytes a row, the block's top-left byte at
    /// `out[0]`), one pixel column per entry of `columns`, `height` rows whose first pixel
    /// centre is at world height `y0`, pixels `step` tiles apart.
    pub fn paint(&self, columns: &[Column], y0: f32, step: f32, height: usize, out: &mut [u8], stride: usize) {
        for py in 0..height {
            let y = y0 - py as f32 * step;
            let row = &mut out[py * stride..py * stride + columns.len() * 3];
            for (px, col) in row.chunks_exact_mut(3).zip(columns) {
                px.copy_from_slice(&self.color(col, y));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_paints_its_colours() {
        let colors = [[10, 20, 30], [200, 100, 50], [60, 160, 60]];
        for kind in BackgroundKind::PICTURES {
            let backdrop = Backdrop::new(&Background { kind, colors, scale: 4.0, phase: 1.0 });
            let mut img = vec![0u8; 20 * 20 * 3];
            backdrop.paint(&backdrop.columns(0.0, 0.7, 20), 30.0, 0.7, 20, &mut img, 60);
            let seen: std::collections::HashSet<&[u8]> = img.chunks(3).collect();
            assert!(seen.len() >= 2, "{kind:?} paints one colour only");
        }
    }
}
