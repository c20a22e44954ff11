//! `heldout pretrain`: train the vision backbone as an object detector, for `heldout train` to
//! start from (`agent.encoder = { vision = { pretrained_backbone = "<out>" } }`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use heldout_agents::VisionConfig;
use heldout_envs::ObjectClass;
use heldout_envs::multiroom::{MultiRoomObs, MultiRoomOptions};
use heldout_envs::registry::EnvConfig;

use super::render::EnvName;
use heldout::logger::Logger;
use heldout::pretrain::frames::FramePlay;
use heldout::pretrain::{PretrainConfig, PretrainReport, pretrain};

/// Pixels per cell of MultiRoom's picture observation when pretraining on MultiRoom.
const MULTIROOM_TILE: usize = 8;

/// Arguments of `heldout pretrain`.
#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// Which environment (MultiRoom is pretrained on its picture observation, 8 pixels a cell).
    #[arg(long, value_enum, default_value_t = EnvName::Coinrun)]
    pub env: EnvName,
    /// Training levels `[0, N)`; the quality is measured on the levels after them. Use at most
    /// the `train_levels` of the runs that will start from the backbone (coinrun-small: 100), so
    /// that pretraining never sees their held-out levels.
    #[arg(long, default_value_t = 100)]
    pub train_levels: u64,
    /// Training frames.
    #[arg(long, default_value_t = 4096)]
    pub frames: usize,
    /// Held-out frames to measure the quality on.
    #[arg(long, default_value_t = 256)]
    pub eval_frames: usize,
    /// Adam steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Frames per step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Measure the held-out quality every this many steps (and before and after training).
    #[arg(long, default_value_t = 500)]
    pub eval_interval: usize,
    /// Probability of replacing a scripted action with a random one while playing.
    #[arg(long, default_value_t = FramePlay::default().random_actions)]
    pub random_actions: f64,
    /// Batch norm in the backbone (the agent must then train with `regularizers.batch_norm`).
    #[arg(long)]
    pub batch_norm: bool,
    /// Seed of the levels, actions, minibatches and weights.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the backbone (default: RUN_DIR/backbone.bpk).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run name (logs in runs/NAME).
    #[arg(long, default_value = "pretrain")]
    pub name: String,
    /// Run directory, instead of runs/NAME.
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

impl PretrainArgs {
    /// The pretraining config the flags describe.
    pub fn config(&self) -> PretrainConfig {
        let env = match self.env {
            EnvName::Coinrun => self.env.default_config(),
            EnvName::Multiroom => EnvConfig::MultiRoom(MultiRoomOptions {
                obs: MultiRoomObs::Rgb { tile_size: MULTIROOM_TILE },
                ..MultiRoomOptions::default()
            }),
        };
        PretrainConfig {
            env,
            train_levels: self.train_levels,
            frames: self.frames,
            eval_frames: self.eval_frames,
            steps: self.steps,
            batch: self.batch,
            learning_rate: self.lr,
            eval_interval: self.eval_interval,
            seed: self.seed,
            play: FramePlay { random_actions: self.random_actions, ..FramePlay::default() },
            vision: VisionConfig::default(),
            batch_norm: self.batch_norm,
        }
    }
}

/// How many progress lines a pretraining prints (besides the first step's).
const PROGRESS_LINES: usize = 10;

/// Runs `heldout pretrain`.
pub fn run(args: PretrainArgs) -> Result<()> {
    let config = args.config();
    config.validate()?;
    let run_dir = args.run_dir.clone().unwrap_or_else(|| heldout::paths::run_dir(&args.name));
    let out = args.out.clone().unwrap_or_else(|| run_dir.join("backbone.bpk"));
    let mut logger = Logger::new(&run_dir)?;
    let every = (config.steps / PROGRESS_LINES).max(1);
    let report = pretrain(&config, &out, &mut logger, |step, loss| {
        if !args.quiet && (step.is_multiple_of(every) || step == 1) {
            println!("step {step}/{}: detection loss {loss:.4}", config.steps);
        }
    })?;
    logger.flush();
    report.save(&run_dir)?;
    print_summary(&report);
    println!("wrote {} (logs and {} in {})", out.display(), heldout::pretrain::REPORT_FILE, run_dir.display());
    Ok(())
}

/// The losses and the held-out quality, before and after training.
fn print_summary(r: &PretrainReport) {
    println!(
        "{} training frames from {} levels, {} held-out frames with {} objects, {:.0} s",
        r.train_frames, r.train_levels_seen, r.eval_frames, r.quality.objects, r.seconds
    );
    println!("training loss (first / last tenth of the steps): {:.4} -> {:.4}", r.first_train_loss, r.last_train_loss);
    println!("held-out loss: {:.4} -> {:.4}", r.first_heldout_loss, r.last_heldout_loss);
    println!(
        "held-out mAP@0.5: {:.3} -> {:.3}; mean IoU of the best detection: {:.3} -> {:.3}",
        r.quality_before.map50, r.quality.map50, r.quality_before.mean_iou, r.quality.mean_iou
    );
    let per_class: Vec<String> = r
        .quality
        .per_class
        .iter()
        .map(|c| format!("{} {:.3} ({} objects)", ObjectClass::ALL[c.class].name(), c.ap50, c.objects))
        .collect();
    println!("held-out AP@0.5 per class: {}", per_class.join(", "));
}
