//! TensorBoard logging of a run, through tensorboard-rs.

use std::path::Path;

use anyhow::{Context, Result};
use heldout_envs::RgbFrame;
use tensorboard_rs::summary_writer::SummaryWriter;

/// Writes a run's scalars and images as TensorBoard event files in its directory.
pub struct Logger {
    writer: SummaryWriter,
}

impl Logger {
    /// Opens a new event file in `dir` (created if missing). Earlier event files of a resumed
    /// run stay beside it, and TensorBoard reads them all.
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating log directory {}", dir.display()))?;
        wait_for_fresh_file_name(dir);
        Ok(Self { writer: SummaryWriter::new(dir) })
    }

    /// Logs a scalar; non-finite values are skipped (TensorBoard cannot plot them).
    pub fn scalar(&mut self, tag: &str, value: f64, step: u64) {
        if value.is_finite() {
            self.writer.add_scalar(tag, value as f32, step as usize);
        }
    }

    /// Logs an RGB picture.
    pub fn image(&mut self, tag: &str, frame: &RgbFrame, step: u64) {
        // tensorboard-rs takes interleaved RGB with the dimensions [3, width, height].
        self.writer.add_image(tag, &frame.data, &[3, frame.width, frame.height], step as usize);
    }

    /// Hands everything logged so far to the writer thread's file.
    pub fn flush(&mut self) {
        self.writer.flush();
    }
}

/// tensorboard-rs names its files by the second, host and process id, so a second writer in
/// the same directory within the same second would overwrite the first: wait for a new second.
fn wait_for_fresh_file_name(dir: &Path) {
    let pid = std::process::id();
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let taken = std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&format!("events.out.tfevents.{now:010}.")) && name.ends_with(&format!(".{pid}.0"))
        });
        if !taken {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
