//! Pictures for people: PNG frames, GIF episodes and frame strips.

use std::path::Path;

use anyhow::{Context, Result, anyhow, ensure};
use heldout_envs::RgbFrame;
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, ImageFormat, RgbImage, RgbaImage};

/// Saves one frame as a PNG (written atomically).
pub fn save_png(frame: &RgbFrame, path: &Path) -> Result<()> {
    let mut bytes = Vec::new();
    to_image(frame)?.write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png).context("encoding PNG")?;
    crate::atomic::write(path, &bytes)
}

/// Saves frames as a looping GIF at `fps` frames per second (written atomically).
pub fn save_gif(frames: &[RgbFrame], fps: u32, path: &Path) -> Result<()> {
    ensure!(!frames.is_empty(), "no frames to write to {}", path.display());
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut bytes, 10);
        encoder.set_repeat(Repeat::Infinite).context("encoding GIF")?;
        let delay = Delay::from_numer_denom_ms(1000, fps.max(1));
        for f in frames {
            let rgba: RgbaImage = image::DynamicImage::ImageRgb8(to_image(f)?).into_rgba8();
            encoder.encode_frame(Frame::from_parts(rgba, 0, 0, delay)).context("encoding GIF")?;
        }
    }
    crate::atomic::write(path, &bytes)
}

/// Up to `count` frames picked evenly from `frames`, side by side (all frames of one size).
pub fn strip(frames: &[RgbFrame], count: usize) -> Option<RgbFrame> {
    let first = frames.first()?;
    let picked: Vec<&RgbFrame> = if frames.len() <= count {
        frames.iter().collect()
    } else {
        (0..count).map(|i| &frames[i * (frames.len() - 1) / (count - 1).max(1)]).collect()
    };
    let (w, h) = (first.width, first.height);
    let width = w * picked.len();
    let mut data = vec![0; width * h * 3];
    for (k, f) in picked.iter().enumerate() {
        for y in 0..h {
            let src = &f.data[y * w * 3..(y + 1) * w * 3];
            data[(y * width + k * w) * 3..(y * width + (k + 1) * w) * 3].copy_from_slice(src);
        }
    }
    Some(RgbFrame { width, height: h, data })
}

fn to_image(frame: &RgbFrame) -> Result<RgbImage> {
    RgbImage::from_raw(frame.width as u32, frame.height as u32, frame.data.clone())
        .ok_or_else(|| anyhow!("frame of {}x{} has {} bytes", frame.width, frame.height, frame.data.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: usize, h: usize, v: u8) -> RgbFrame {
        RgbFrame { width: w, height: h, data: vec![v; w * h * 3] }
    }

    #[test]
    fn strip_places_frames_side_by_side() {
        let frames: Vec<RgbFrame> = (0..10).map(|i| solid(2, 3, i)).collect();
        let s = strip(&frames, 4).unwrap();
        assert_eq!((s.width, s.height), (8, 3));
        // frames 0, 3, 6, 9 picked evenly, first and last included
        let row: Vec<u8> = s.data[..8 * 3].iter().step_by(6).copied().collect();
        assert_eq!(row, vec![0, 3, 6, 9]);
        assert!(strip(&[], 4).is_none());
    }

    #[test]
    fn png_and_gif_decode_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = solid(4, 2, 10);
        f.data[0] = 200;
        save_png(&f, &dir.path().join("a.png")).unwrap();
        let back = image::open(dir.path().join("a.png")).unwrap().into_rgb8();
        assert_eq!((back.width(), back.height()), (4, 2));
        assert_eq!(back.into_raw(), f.data);
        save_gif(&[solid(4, 2, 0), solid(4, 2, 255)], 10, &dir.path().join("a.gif")).unwrap();
        assert_eq!(image::ImageFormat::from_path(dir.path().join("a.gif")).unwrap(), ImageFormat::Gif);
        assert!(save_gif(&[], 10, &dir.path().join("b.gif")).is_err());
        assert!(save_png(&RgbFrame { width: 3, height: 3, data: vec![0; 5] }, &dir.path().join("c.png")).is_err());
    }
}
