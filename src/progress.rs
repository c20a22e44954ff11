//! The training progress bar: on stderr, hidden when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressStyle};

/// Frames done, SPS and the latest train and test returns.
pub struct Progress {
    bar: ProgressBar,
    train_return: Option<f64>,
    test_return: Option<f64>,
}

impl Progress {
    /// A bar over `total_frames`, starting at `done`.
    pub fn new(total_frames: u64, done: u64) -> Self {
        let bar = ProgressBar::new(total_frames);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {human_pos}/{human_len} frames  {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_position(done);
        Self { bar, train_return: None, test_return: None }
    }

    /// Records the latest evaluation returns.
    pub fn set_eval(&mut self, train_return: f64, test_return: f64) {
        (self.train_return, self.test_return) = (Some(train_return), Some(test_return));
    }

    /// Moves the bar to `frames` at `sps` frames per second.
    pub fn update(&self, frames: u64, sps: f64) {
        let fmt = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.3}"));
        self.bar.set_position(frames);
        self.bar.set_message(format!(
            "{sps:.0} SPS  train return {}  test return {}",
            fmt(self.train_return),
            fmt(self.test_return)
        ));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
