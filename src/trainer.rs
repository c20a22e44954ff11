//! The training loop: collect, learn, log, evaluate, checkpoint. Reads top to bottom.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use heldout_agents::{Agent, ObsFormat, UpdateStats};
use heldout_envs::ObsSpace;
use heldout_envs::level::splitmix64;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, TrainerState};
use crate::collect::collect;
use crate::config::RunConfig;
use crate::evaluate::{EvalReport, evaluate, record_episode};
use crate::logger::Logger;
use crate::progress::Progress;
use crate::workers::WorkerPool;

/// The file a finished run writes its final evaluation to (its presence marks the run done).
pub const RESULT_FILE: &str = "result.toml";
/// The resolved config of a run, saved in its directory.
pub const CONFIG_FILE: &str = "config.toml";

/// What to do besides following the config.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Continue from the run directory's newest checkpoint.
    pub resume: bool,
    /// Stop (with a checkpoint) once this many updates are done, as if the run were cut there.
    pub stop_after: Option<usize>,
    /// Show a progress bar (it also hides itself when stderr is not a terminal).
    pub progress: bool,
}

/// The final evaluation of a finished run, saved as `result.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Frames trained on.
    pub frames: u64,
    /// Wall-clock seconds of this process's share of the run.
    pub wall_seconds: f64,
    /// Evaluation on training levels.
    pub train: EvalReport,
    /// Evaluation on held-out levels.
    pub test: EvalReport,
}

/// Where this process's training time went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Frames collected by this process.
    pub frames: u64,
    /// Stepping envs.
    pub env: Duration,
    /// Policy inference during rollouts.
    pub inference: Duration,
    /// Learner updates.
    pub learn: Duration,
    /// Evaluations, pictures and checkpoints.
    pub other: Duration,
    /// Everything, from the first update to the last.
    pub total: Duration,
}

impl Timings {
    /// Training frames per second over the whole loop.
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.total.as_secs_f64()
    }
}

/// How a call to [`train`] ended.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The final evaluation; `None` when `stop_after` cut the run short.
    pub result: Option<RunResult>,
    /// Where the time went.
    pub timings: Timings,
}

/// Trains an agent as `config` says, in `run_dir`.
pub fn train(config: &RunConfig, run_dir: &Path, options: &TrainOptions) -> Result<TrainOutcome> {
    let started = Instant::now();
    check_run_dir(config, run_dir, options.resume)?;
    let mut pool =
        WorkerPool::new(&config.env, config.level_sets().0, config.seed, config.num_envs, config.worker_count())?;

    let (mut agent, mut state) = match checkpoint::latest(run_dir)?.filter(|_| options.resume) {
        Some(ckpt) => {
            let (agent, state) = checkpoint::load(&ckpt)?;
            if agent.config() != &config.agent {
                bail!(
                    "the agent settings in checkpoint {} differ from {}; a run resumes with the settings it started with",
                    ckpt.display(),
                    run_dir.join(CONFIG_FILE).display()
                );
            }
            pool.restore(&state.slots).context("restoring the envs from the checkpoint")?;
            eprintln!("resuming {} from update {} ({} frames)", run_dir.display(), state.update, state.global_step);
            (agent, state)
        }
        None => {
            let obs = obs_format(pool.observation_space())?;
            (Agent::new(&config.agent, obs, pool.num_actions(), config.seed)?, TrainerState::default())
        }
    };
    // Only a run that could start gets a directory.
    crate::atomic::write(&run_dir.join(CONFIG_FILE), config.to_toml().as_bytes())?;

    let mut logger = Logger::new(run_dir)?;
    let progress = options.progress.then(|| Progress::new(config.total_frames, state.global_step));
    let mut progress = progress;
    let num_updates = config.num_updates();
    let gamma = config.agent.ppo.gamma;
    let mut last_eval = None;
    let mut timings = Timings::default();
    let loop_start = Instant::now();
    let wall_before = state.wall_seconds;

    // The untrained policy's returns: the random baseline the curves start from.
    if state.update == 0 && config.eval.interval > 0 {
        evaluate_and_log(&agent, config, run_dir, &mut logger, &mut state, 0.0)?;
    }

    while state.update < num_updates {
        let update_start = Instant::now();
        let fraction_done = state.update as f64 / num_updates as f64;

        // 1. Collect a rollout with the behaviour policy.
        let mut rng = StdRng::seed_from_u64(splitmix64(config.seed ^ splitmix64(state.update as u64)));
        let collected = collect(&agent, &mut pool, config.num_steps, gamma, &mut rng)?;
        let rollout_time = update_start.elapsed();

        // 2. Learn from it. A non-finite loss stops the run; the last checkpoint stays good.
        let learn_start = Instant::now();
        let stats = agent.update(&collected.rollout, fraction_done).with_context(|| {
            let kept = match checkpoint::latest(run_dir) {
                Ok(Some(last)) => format!("the last good checkpoint is {}", last.display()),
                _ => "no checkpoint had been written yet".to_string(),
            };
            format!("update {} failed, the run stops; {kept}", state.update)
        })?;
        let learn_time = learn_start.elapsed();
        let other_start = Instant::now();
        state.update += 1;
        state.global_step += config.batch_size() as u64;
        let step = state.global_step;

        // 3. Log the episodes, losses and speed.
        if !collected.episodes.is_empty() {
            let n = collected.episodes.len() as f64;
            logger.scalar(
                "charts/episodic_return",
                collected.episodes.iter().map(|e| f64::from(e.episode_return)).sum::<f64>() / n,
                step,
            );
            logger.scalar(
                "charts/episodic_length",
                collected.episodes.iter().map(|e| f64::from(e.length)).sum::<f64>() / n,
                step,
            );
            logger.scalar("charts/success", collected.episodes.iter().filter(|e| e.success).count() as f64 / n, step);
        }
        let sps = config.batch_size() as f64 / update_start.elapsed().as_secs_f64();
        logger.scalar("charts/SPS", sps, step);
        logger.scalar("charts/learning_rate", stats.learning_rate, step);
        log_losses(&mut logger, &stats, step);
        logger.scalar("sni/lambda", config.agent.sni_lambda.unwrap_or(f64::NAN), step);
        let secs = Duration::as_secs_f64;
        logger.scalar("perf/rollout_seconds", secs(&rollout_time), step);
        logger.scalar("perf/env_seconds", secs(&collected.env_time), step);
        logger.scalar("perf/inference_seconds", secs(&collected.inference_time), step);
        logger.scalar("perf/learner_seconds", secs(&learn_time), step);

        // 4. Evaluate the noise-free policy on training and held-out levels.
        let finished = state.update == num_updates;
        if finished || (config.eval.interval > 0 && state.update.is_multiple_of(config.eval.interval)) {
            let wall_seconds = wall_before + loop_start.elapsed().as_secs_f64();
            let (train, test) = evaluate_and_log(&agent, config, run_dir, &mut logger, &mut state, wall_seconds)?;
            if let Some(p) = progress.as_mut() {
                p.set_eval(train.episode_return.mean, test.episode_return.mean);
            }
            last_eval = Some((train, test));
        }

        // 5. Checkpoint.
        let stopping = options.stop_after.is_some_and(|s| state.update >= s);
        if finished || stopping || state.update.is_multiple_of(config.checkpoint_interval) {
            state.slots = pool.snapshot()?;
            state.wall_seconds = wall_before + loop_start.elapsed().as_secs_f64();
            checkpoint::save(run_dir, &agent, &state)?;
        }
        logger.flush();
        if let Some(p) = progress.as_ref() {
            p.update(state.global_step, sps);
        }
        timings.frames += config.batch_size() as u64;
        timings.env += collected.env_time;
        timings.inference += collected.inference_time;
        timings.learn += learn_time;
        timings.other += other_start.elapsed();
        if stopping && !finished {
            break;
        }
    }
    timings.total = loop_start.elapsed();
    if let Some(p) = progress.as_ref() {
        p.finish();
    }
    logger.flush();

    let Some((train, test)) = last_eval.filter(|_| state.update == num_updates) else {
        return Ok(TrainOutcome { result: None, timings });
    };
    let result = RunResult { frames: state.global_step, wall_seconds: started.elapsed().as_secs_f64(), train, test };
    crate::atomic::write(&run_dir.join(RESULT_FILE), toml::to_string(&result)?.as_bytes())?;
    Ok(TrainOutcome { result: Some(result), timings })
}

/// Evaluates the noise-free policy on training and held-out levels at `state.global_step`, and
/// logs it to TensorBoard (with a picture strip of a held-out episode every few evaluations)
/// and to `eval.csv`.
fn evaluate_and_log(
    agent: &Agent,
    config: &RunConfig,
    run_dir: &Path,
    logger: &mut Logger,
    state: &mut TrainerState,
    wall_seconds: f64,
) -> Result<(EvalReport, EvalReport)> {
    let (train_levels, test_levels) = config.level_sets();
    let (seed, workers, step) = (splitmix64(config.seed ^ 0xE7A1), config.worker_count(), state.global_step);
    let train = evaluate(agent, &config.env, train_levels, config.eval.episodes, seed, workers)?;
    let test = evaluate(agent, &config.env, test_levels, config.eval.episodes, seed, workers)?;
    logger.scalar("eval/train_return", train.episode_return.mean, step);
    logger.scalar("eval/test_return", test.episode_return.mean, step);
    logger.scalar("eval/train_success", train.success.mean, step);
    logger.scalar("eval/test_success", test.success.mean, step);
    logger.scalar("eval/generalization_gap", train.success.mean - test.success.mean, step);
    if config.eval.image_every > 0 && state.evaluations.is_multiple_of(config.eval.image_every) {
        let frames = record_episode(agent, &config.env, test_levels, seed ^ state.update as u64, 400)?;
        if let Some(strip) = crate::picture::strip(&frames, 8) {
            logger.image("eval/test_episode", &strip, step);
        }
    }
    state.evaluations += 1;
    append_eval_row(run_dir, step, wall_seconds, &train, &test)?;
    Ok((train, test))
}

/// The evaluation curve of a run, as CSV beside its TensorBoard files.
pub const EVAL_FILE: &str = "eval.csv";
const EVAL_HEADER: &str = "frames,wall_seconds,train_return,test_return,train_success,test_success";

/// Adds an evaluation to `eval.csv` (rewritten atomically). Rows at or after `frames`, left by a
/// killed process after its last checkpoint, are replaced.
fn append_eval_row(
    run_dir: &Path,
    frames: u64,
    wall_seconds: f64,
    train: &EvalReport,
    test: &EvalReport,
) -> Result<()> {
    let path = run_dir.join(EVAL_FILE);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut text = format!("{EVAL_HEADER}\n");
    for line in old.lines().skip(1) {
        if line.split(',').next().and_then(|f| f.parse::<u64>().ok()).is_some_and(|f| f < frames) {
            text.push_str(line);
            text.push('\n');
        }
    }
    text.push_str(&format!(
        "{frames},{wall_seconds:.1},{},{},{},{}\n",
        train.episode_return.mean, test.episode_return.mean, train.success.mean, test.success.mean
    ));
    crate::atomic::write(&path, text.as_bytes())
}

/// The run directory for a config: `runs/<name>` unless given.
pub fn default_run_dir(config: &RunConfig) -> PathBuf {
    Path::new("runs").join(&config.name)
}

/// Refuses to mix two runs in one directory, or to resume with other settings.
fn check_run_dir(config: &RunConfig, run_dir: &Path, resume: bool) -> Result<()> {
    let config_path = run_dir.join(CONFIG_FILE);
    if config_path.exists() {
        let saved = RunConfig::load(&config_path)?;
        if !resume {
            bail!("{} already holds a run: pass --resume to continue it, or choose another --name", run_dir.display());
        }
        if saved != *config {
            bail!("the config differs from the one saved in {}; resume with the saved config", config_path.display());
        }
    }
    Ok(())
}

/// How the agent reads the env's observations.
pub fn obs_format(space: &ObsSpace) -> Result<ObsFormat> {
    let [height, width, channels] = space.shape[..] else {
        bail!("observations of shape {:?} are not images (height, width, channels)", space.shape);
    };
    let scale = if space.high == u8::MAX { 1.0 / 255.0 } else { 1.0 };
    Ok(ObsFormat { height, width, channels, scale })
}

fn log_losses(logger: &mut Logger, stats: &UpdateStats, step: u64) {
    for (tag, value) in [
        ("losses/policy_loss", stats.policy_loss),
        ("losses/value_loss", stats.value_loss),
        ("losses/entropy", stats.entropy),
        ("losses/approx_kl", stats.approx_kl),
        ("losses/clipfrac", stats.clipfrac),
        ("losses/explained_variance", stats.explained_variance),
        ("losses/kl_bottleneck", stats.kl_bottleneck),
        ("losses/l2", stats.l2),
    ] {
        logger.scalar(tag, value, step);
    }
}
