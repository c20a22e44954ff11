//! The training loop: collect, learn, log, evaluate, checkpoint. Reads top to bottom.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use heldout_agents::{Agent, AgentConfig, UpdateStats};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, TrainerState};
use crate::collect::{Collected, collect};
use crate::config::RunConfig;
use crate::evaluate::{EvalReport, evaluate, record_episode};
use crate::logger::{HParam, Logger};
use crate::method::Method;
use crate::paths::{CONFIG_FILE, EVAL_FILE, RESULT_FILE};
use crate::progress::Progress;
use crate::workers::WorkerPool;

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

    /// Adds one update: its frames, the rollout's env and inference time, the learner's time,
    /// and the rest.
    fn add(&mut self, frames: u64, collected: &Collected, learn: Duration, other: Duration) {
        self.frames += frames;
        self.env += collected.env_time;
        self.inference += collected.inference_time;
        self.learn += learn;
        self.other += other;
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
    let (mut agent, mut state) = start_or_resume(config, run_dir, options.resume, &mut pool)?;
    // Only a run that could start gets a directory.
    crate::atomic::write(&run_dir.join(CONFIG_FILE), config.to_toml().as_bytes())?;

    let mut logger = Logger::new(run_dir)?;
    logger.hparams(&hparams(config), FINAL_METRICS)?;
    let mut progress = options.progress.then(|| Progress::new(config.total_frames, state.global_step));
    let num_updates = config.num_updates();
    let mut last_eval = None;
    let mut timings = Timings::default();
    let clock = RunClock { loop_start: Instant::now(), before: state.wall_seconds };

    // The untrained policy's returns: the random baseline the curves start from.
    if agent.updates_done() == 0 && config.eval.interval > 0 {
        evaluate_and_log(&agent, config, run_dir, &mut logger, &mut state, 0.0)?;
    }

    while updates_done(&agent) < num_updates {
        let update_start = Instant::now();
        let fraction_done = updates_done(&agent) as f64 / num_updates as f64;
        let collected = collect_rollout(&agent, config, &mut pool)?;
        let rollout_time = update_start.elapsed();
        let learn_start = Instant::now();
        let stats = learn(&mut agent, &collected, fraction_done, run_dir)?;
        let learn_time = learn_start.elapsed();
        let other_start = Instant::now();
        state.global_step += config.batch_size() as u64;
        let sps = config.batch_size() as f64 / update_start.elapsed().as_secs_f64();
        log_update(
            &mut logger,
            config,
            &collected,
            &stats,
            UpdateTimes { rollout_time, learn_time, sps },
            state.global_step,
        );

        let update = updates_done(&agent);
        let finished = update == num_updates;
        if finished || (config.eval.interval > 0 && update.is_multiple_of(config.eval.interval)) {
            let evaluation = evaluate_and_log(&agent, config, run_dir, &mut logger, &mut state, clock.seconds())?;
            if let Some(p) = progress.as_mut() {
                p.set_eval(evaluation.0.episode_return.mean, evaluation.1.episode_return.mean);
            }
            last_eval = Some(evaluation);
        }
        let stopping = options.stop_after.is_some_and(|s| update >= s);
        if finished || stopping || update.is_multiple_of(config.checkpoint_interval) {
            state.slots = pool.snapshot()?;
            state.wall_seconds = clock.seconds();
            checkpoint::save(run_dir, &agent, &state)?;
        }
        logger.flush();
        if let Some(p) = progress.as_ref() {
            p.update(state.global_step, sps);
        }
        timings.add(config.batch_size() as u64, &collected, learn_time, other_start.elapsed());
        if stopping && !finished {
            break;
        }
    }
    timings.total = clock.loop_start.elapsed();
    if let Some(p) = progress.as_ref() {
        p.finish();
    }

    let Some((train, test)) = last_eval.filter(|_| updates_done(&agent) == num_updates) else {
        logger.flush();
        return Ok(TrainOutcome { result: None, timings });
    };
    let result = RunResult { frames: state.global_step, wall_seconds: started.elapsed().as_secs_f64(), train, test };
    log_final(&mut logger, &result)?;
    crate::atomic::write(&run_dir.join(RESULT_FILE), toml::to_string(&result)?.as_bytes())?;
    Ok(TrainOutcome { result: Some(result), timings })
}

/// The agent and trainer state to go on from: the run directory's newest checkpoint when
/// resuming, else a fresh agent.
fn start_or_resume(
    config: &RunConfig,
    run_dir: &Path,
    resume: bool,
    pool: &mut WorkerPool,
) -> Result<(Agent, TrainerState)> {
    let Some(ckpt) = checkpoint::latest(run_dir)?.filter(|_| resume) else {
        let obs = crate::convert::obs_format(pool.observation_space())?;
        return Ok((Agent::new(&config.agent, obs, pool.num_actions(), config.seed)?, TrainerState::default()));
    };
    let (agent, state) = checkpoint::load(&ckpt)?;
    // The learner may differ: a checkpoint written by the generic learner goes on with it.
    let settings = AgentConfig { learner: config.agent.learner, ..agent.config().clone() };
    if settings != config.agent {
        bail!(
            "the agent settings in checkpoint {} differ from {}; a run resumes with the settings it started with",
            ckpt.display(),
            run_dir.join(CONFIG_FILE).display()
        );
    }
    pool.restore(&state.slots).context("restoring the envs from the checkpoint")?;
    eprintln!("resuming {} from update {} ({} frames)", run_dir.display(), agent.updates_done(), state.global_step);
    Ok((agent, state))
}

/// Updates the agent has made, as a count of the loop.
fn updates_done(agent: &Agent) -> usize {
    agent.updates_done() as usize
}

/// Wall-clock seconds of a run over all its processes.
struct RunClock {
    /// When this process's loop started.
    loop_start: Instant,
    /// Seconds the run had trained before this process.
    before: f64,
}

impl RunClock {
    fn seconds(&self) -> f64 {
        self.before + self.loop_start.elapsed().as_secs_f64()
    }
}

/// 1. Collects the next update's rollout with the behaviour policy.
fn collect_rollout(agent: &Agent, config: &RunConfig, pool: &mut WorkerPool) -> Result<Collected> {
    let mut rng = StdRng::seed_from_u64(heldout_seeds::rollout(config.seed, agent.updates_done()));
    collect(agent, pool, config.num_steps, config.agent.ppo.gamma, &mut rng)
}

/// 2. Learns from a rollout. A non-finite loss stops the run; the last checkpoint stays good.
fn learn(agent: &mut Agent, collected: &Collected, fraction_done: f64, run_dir: &Path) -> Result<UpdateStats> {
    let update = agent.updates_done();
    agent.update(&collected.rollout, fraction_done).with_context(|| {
        let kept = match checkpoint::latest(run_dir) {
            Ok(Some(last)) => format!("the last good checkpoint is {}", last.display()),
            _ => "no checkpoint had been written yet".to_string(),
        };
        format!("update {update} failed, the run stops; {kept}")
    })
}

/// How long one update's rollout and learning took, and the loop's speed over it.
#[derive(Debug, Clone, Copy)]
struct UpdateTimes {
    rollout_time: Duration,
    learn_time: Duration,
    sps: f64,
}

/// 3. Logs an update's episodes, losses and speed (CleanRL's tags).
fn log_update(
    logger: &mut Logger,
    config: &RunConfig,
    collected: &Collected,
    stats: &UpdateStats,
    times: UpdateTimes,
    step: u64,
) {
    let episodes = &collected.episodes;
    if !episodes.is_empty() {
        let n = episodes.len() as f64;
        let mean = |f: &dyn Fn(&heldout_envs::EpisodeRecord) -> f64| episodes.iter().map(f).sum::<f64>() / n;
        logger.scalar("charts/episodic_return", mean(&|e| f64::from(e.episode_return)), step);
        logger.scalar("charts/episodic_length", mean(&|e| f64::from(e.length)), step);
        logger.scalar("charts/success", mean(&|e| f64::from(u8::from(e.success))), step);
    }
    logger.scalar("charts/SPS", times.sps, step);
    logger.scalar("charts/learning_rate", stats.learning_rate, step);
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
    logger.scalar("sni/lambda", config.agent.sni_lambda.unwrap_or(f64::NAN), step);
    let secs = Duration::as_secs_f64;
    logger.scalar("perf/rollout_seconds", secs(&times.rollout_time), step);
    logger.scalar("perf/env_seconds", secs(&collected.env_time), step);
    logger.scalar("perf/inference_seconds", secs(&collected.inference_time), step);
    logger.scalar("perf/learner_seconds", secs(&times.learn_time), step);
}

/// The scalar tags of a finished run's final evaluation: the metrics of the HParams dashboard.
pub const FINAL_METRICS: &[&str] = &[
    "final/train_success",
    "final/test_success",
    "final/generalization_gap",
    "final/train_return",
    "final/test_return",
];

/// Logs the final evaluation as [`FINAL_METRICS`] and closes the run's hparams session.
fn log_final(logger: &mut Logger, result: &RunResult) -> Result<()> {
    let (train, test) = (&result.train, &result.test);
    let values = [
        train.success.mean,
        test.success.mean,
        train.success.mean - test.success.mean,
        train.episode_return.mean,
        test.episode_return.mean,
    ];
    for (tag, value) in FINAL_METRICS.iter().zip(values) {
        logger.scalar(tag, value, result.frames);
    }
    logger.hparams_end()?;
    logger.flush();
    Ok(())
}

/// The hyperparameters a run shows in TensorBoard's HParams dashboard.
fn hparams(config: &RunConfig) -> Vec<(String, HParam)> {
    let agent = &config.agent;
    let regularizers = &agent.regularizers;
    let mut out = vec![
        ("method", HParam::Text(config.method.map_or("custom", Method::name).to_string())),
        ("env", HParam::Text(config.env.name().to_string())),
        ("train_levels", HParam::Number(config.train_levels as f64)),
        ("seed", HParam::Number(config.seed as f64)),
        ("total_frames", HParam::Number(config.total_frames as f64)),
        ("l2", HParam::Number(regularizers.l2)),
        ("dropout", HParam::Number(regularizers.dropout)),
        ("batch_norm", HParam::Bool(regularizers.batch_norm)),
        ("bottleneck", HParam::Bool(regularizers.bottleneck.is_some())),
        ("augment", HParam::Bool(regularizers.augment)),
        ("sni", HParam::Bool(agent.sni_lambda.is_some())),
        ("learning_rate", HParam::Number(agent.ppo.learning_rate)),
    ];
    if let Some(b) = &regularizers.bottleneck {
        out.push(("bottleneck_beta", HParam::Number(b.beta)));
    }
    if let Some(lambda) = agent.sni_lambda {
        out.push(("sni_lambda", HParam::Number(lambda)));
    }
    out.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Most steps of the held-out episode recorded for a picture strip.
const PICTURE_MAX_STEPS: usize = 400;
/// Frames in a picture strip, spread evenly over the episode.
const PICTURE_FRAMES: usize = 8;

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
    let (seed, workers, step) = (heldout_seeds::evaluation(config.seed), config.worker_count(), state.global_step);
    let train = evaluate(agent, &config.env, train_levels, config.eval.episodes, seed, workers)?;
    let test = evaluate(agent, &config.env, test_levels, config.eval.episodes, seed, workers)?;
    logger.scalar("eval/train_return", train.episode_return.mean, step);
    logger.scalar("eval/test_return", test.episode_return.mean, step);
    logger.scalar("eval/train_success", train.success.mean, step);
    logger.scalar("eval/test_success", test.success.mean, step);
    logger.scalar("eval/generalization_gap", train.success.mean - test.success.mean, step);
    logger.scalar("eval/train_decision", train.decision.mean, step);
    logger.scalar("eval/test_decision", test.decision.mean, step);
    if config.eval.image_every > 0 && state.evaluations.is_multiple_of(config.eval.image_every) {
        let picture_seed = heldout_seeds::picture(config.seed, agent.updates_done());
        let frames = record_episode(agent, &config.env, test_levels, picture_seed, PICTURE_MAX_STEPS)?;
        if let Some(strip) = crate::picture::strip(&frames, PICTURE_FRAMES) {
            logger.image("eval/test_episode", &strip, step)?;
        }
    }
    state.evaluations += 1;
    append_eval_row(run_dir, step, wall_seconds, &train, &test)?;
    Ok((train, test))
}

/// The columns of `eval.csv`.
const EVAL_HEADER: &str =
    "frames,wall_seconds,train_return,test_return,train_success,test_success,train_decision,test_decision";

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
        "{frames},{wall_seconds:.1},{},{},{},{},{},{}\n",
        train.episode_return.mean,
        test.episode_return.mean,
        train.success.mean,
        test.success.mean,
        train.decision.mean,
        test.decision.mean
    ));
    crate::atomic::write(&path, text.as_bytes())
}

/// Refuses to mix two runs in one directory, or to resume with other settings. The number of
/// rollout workers may change: it changes no result (a Slurm task resumes a run with its own
/// CPU count).
fn check_run_dir(config: &RunConfig, run_dir: &Path, resume: bool) -> Result<()> {
    let config_path = run_dir.join(CONFIG_FILE);
    if config_path.exists() {
        let saved = RunConfig::load(&config_path)?;
        if !resume {
            bail!("{} already holds a run: pass --resume to continue it, or choose another --name", run_dir.display());
        }
        if (RunConfig { workers: config.workers, ..saved }) != *config {
            bail!("the config differs from the one saved in {}; resume with the saved config", config_path.display());
        }
    }
    Ok(())
}
