//! `heldout render`: look at a level.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use heldout_envs::coinrun::CoinRunOptions;
use heldout_envs::multiroom::MultiRoomOptions;
use heldout_envs::registry::{AnyEnv, EnvConfig};
use heldout_envs::{Env, RgbFrame};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The environments, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvName {
    /// The MultiRoom-like gridworld (the paper's N3r variant).
    Multiroom,
    /// The CoinRun-like platformer.
    Coinrun,
}

impl EnvName {
    /// The environment with its default options.
    pub fn default_config(self) -> EnvConfig {
        match self {
            EnvName::Multiroom => EnvConfig::MultiRoom(MultiRoomOptions::default()),
            EnvName::Coinrun => EnvConfig::CoinRun(CoinRunOptions::default()),
        }
    }
}

/// Who chooses the actions of a drawn episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Policy {
    /// The env's scripted player, which completes the level (`AnyEnv::plan`).
    Scripted,
    /// Uniformly random actions, seeded by --seed.
    Random,
}

/// Arguments of `heldout render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Which environment.
    #[arg(long, value_enum)]
    pub env: EnvName,
    /// The level seed.
    #[arg(long, default_value_t = 0)]
    pub level: u64,
    /// Output file: a PNG of the first frame, or with --episode a GIF.
    #[arg(long)]
    pub out: PathBuf,
    /// Draw a whole episode as a GIF.
    #[arg(long)]
    pub episode: bool,
    /// Who plays the episode.
    #[arg(long, value_enum, default_value_t = Policy::Scripted)]
    pub policy: Policy,
    /// Seed of the random actions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Longest episode to draw, in steps.
    #[arg(long, default_value_t = 300)]
    pub max_steps: usize,
    /// Frames per second of the GIF.
    #[arg(long, default_value_t = 15)]
    pub fps: u32,
}

/// Runs `heldout render`.
pub fn run(args: RenderArgs) -> Result<()> {
    let mut env = args.env.default_config().build()?;
    env.reset(args.level)?;
    let extension = args.out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match (args.episode, extension.as_str()) {
        (false, "png") => {
            heldout::picture::save_png(&env.render(), &args.out)?;
            println!("wrote {} (level {} of {:?})", args.out.display(), args.level, args.env);
        }
        (true, "gif") => {
            let (frames, complete) = episode(&mut env, &args)?;
            heldout::picture::save_gif(&frames, args.fps, &args.out)?;
            let end = if complete { "level complete" } else { "level not complete" };
            println!(
                "wrote {} ({} frames of level {} of {:?}, {:?} policy, {end})",
                args.out.display(),
                frames.len(),
                args.level,
                args.env,
                args.policy
            );
        }
        (false, _) => bail!("--out {} must end in .png (use --episode for a GIF)", args.out.display()),
        (true, _) => bail!("--episode writes a GIF: --out {} must end in .gif", args.out.display()),
    }
    Ok(())
}

/// Plays one episode from the reset `env` with `args.policy`, for at most `args.max_steps` steps;
/// returns every frame and whether the level was completed.
fn episode(env: &mut AnyEnv, args: &RenderArgs) -> Result<(Vec<RgbFrame>, bool)> {
    let actions: Box<dyn Iterator<Item = usize>> = match args.policy {
        Policy::Scripted => {
            let plan = env.plan().with_context(|| {
                format!("the scripted player found no way through level {} of {:?}", args.level, args.env)
            })?;
            Box::new(plan.into_iter())
        }
        Policy::Random => {
            let (n, mut rng) = (env.action_space().n(), StdRng::seed_from_u64(args.seed));
            Box::new(std::iter::repeat_with(move || rng.random_range(0..n)))
        }
    };
    let mut frames = vec![env.render()];
    for action in actions.take(args.max_steps) {
        let step = env.step(action)?;
        frames.push(env.render());
        if step.terminated || step.truncated {
            return Ok((frames, step.info.level_complete));
        }
    }
    Ok((frames, false))
}
