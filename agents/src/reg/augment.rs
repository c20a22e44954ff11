//! CoinRun's data augmentation: random coloured cut-out rectangles.

use rand::{Rng, RngExt};

use crate::obs::ObsFormat;

/// At most this many rectangles per image (CoinRun: `randint(0, 6)`, i.e. 0 to 5).
pub const MAX_RECTS: usize = 5;

/// Paints 0 to [`MAX_RECTS`] rectangles of one random colour each onto every image of
/// `images` (HWC bytes, a whole number of `format` observations), as CoinRun's renderer does
/// with `USE_DATA_AUGMENTATION`: top-left corner uniform over the image, sides uniform in
/// [0.1, 0.35] of the image's sides, clipped at the border. heldout applies it to training
/// minibatches only (CoinRun painted it into the training workers' frames).
pub fn cutout<R: Rng + ?Sized>(images: &mut [u8], format: &ObsFormat, rng: &mut R) {
    let (h, w, c) = (format.height, format.width, format.channels);
    for img in images.chunks_exact_mut(format.len()) {
        let rects = rng.random_range(0..=MAX_RECTS);
        for _ in 0..rects {
            let x0 = (rng.random::<f64>() * w as f64) as usize;
            let y0 = (rng.random::<f64>() * h as f64) as usize;
            let dx = ((rng.random::<f64>() * 0.25 + 0.1) * w as f64).ceil() as usize;
            let dy = ((rng.random::<f64>() * 0.25 + 0.1) * h as f64).ceil() as usize;
            let colour: Vec<u8> = (0..c).map(|_| rng.random::<u8>()).collect();
            for y in y0..(y0 + dy).min(h) {
                for x in x0..(x0 + dx).min(w) {
                    let p = (y * w + x) * c;
                    img[p..p + c].copy_from_slice(&colour);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn cutout_paints_solid_rectangles_and_is_seeded() {
        let fmt = ObsFormat::rgb(16, 16);
        let base = vec![7u8; fmt.len() * 8];
        let mut a = base.clone();
        let mut b = base.clone();
        cutout(&mut a, &fmt, &mut StdRng::seed_from_u64(1));
        cutout(&mut b, &fmt, &mut StdRng::seed_from_u64(1));
        assert_eq!(a, b, "same seed, same cut-outs");
        assert_ne!(a, base, "8 images: some rectangle was painted");
        // Each image gets at most MAX_RECTS solid colours (one per rectangle).
        for img in a.chunks_exact(fmt.len()) {
            let mut colours: Vec<&[u8]> = img.chunks_exact(3).filter(|px| *px != [7, 7, 7]).collect();
            colours.sort();
            colours.dedup();
            assert!(colours.len() <= MAX_RECTS, "{} colours", colours.len());
        }
        let changed = a.chunks_exact(3).filter(|px| *px != [7, 7, 7]).count();
        assert!(changed < 8 * 256, "rectangles cover part of the images, not all");
    }
}
