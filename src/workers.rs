//! Rollout workers: threads that each step a shard of the vectorised envs.
//!
//! The policy runs batched on the caller's thread; each step the pool hands every worker its
//! slice of the actions and gathers the observations (and their object boxes) back in slot order. Slot `i` draws its
//! levels from stream `i` of the run's sampler seed whatever shard it lands in, and actions are
//! sampled by the caller, so the trajectories do not depend on the number of workers.

use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow};
use crossbeam::channel::{Receiver, Sender, unbounded};
use heldout_agents::Observations;
use heldout_agents::vision::LabelledBox;
use heldout_envs::registry::{AnyEnv, EnvConfig};
use heldout_envs::{EnvError, LevelSet, ObjectBox, ObsSpace, SlotSnapshot, VecEnv, VecStep};

use crate::convert::labelled_batch;

enum Command {
    Observe,
    /// Step with these actions; the buffer (the shard's observations from an earlier step,
    /// already copied out) comes back holding the new ones.
    Step(Vec<usize>, Vec<u8>),
    Snapshot,
    Restore(Vec<SlotSnapshot>),
}

/// A shard's current observations and the object boxes of each.
type Observed = (Vec<u8>, Vec<Vec<ObjectBox>>);

enum Reply {
    Observed(Observed),
    Stepped(Box<VecStep>, Observed),
    Snapshot(Vec<SlotSnapshot>),
    Restored,
}

/// Where a shard's envs step.
enum Runner {
    /// On a thread of their own, commanded over channels.
    Thread { commands: Sender<Command>, replies: Receiver<Result<Reply, EnvError>>, thread: Option<JoinHandle<()>> },
    /// On the caller's thread (a pool of one worker: a thread would only add the hand-over),
    /// with the reply to the last command.
    Inline { venv: Box<VecEnv<AnyEnv>>, reply: Option<Result<Reply, EnvError>> },
}

struct Worker {
    runner: Runner,
    slots: usize,
    /// The buffer the shard's observations travel in, between steps.
    spare: Vec<u8>,
}

/// A batch of `num_envs` envs spread over worker threads.
///
/// The pool keeps the observations before the last step beside the current ones (two buffers
/// swapped at each step), so a rollout reads what the policy acted on without a copy.
pub struct WorkerPool {
    workers: Vec<Worker>,
    obs: Vec<u8>,
    boxes: Vec<Vec<LabelledBox>>,
    previous_obs: Vec<u8>,
    previous_boxes: Vec<Vec<LabelledBox>>,
    space: ObsSpace,
    num_actions: usize,
}

impl WorkerPool {
    /// Builds `num_envs` envs from `env`, playing levels of `levels` drawn from `sampler_seed`,
    /// over `workers` threads (at most one per env; one worker steps on the caller's thread).
    pub fn new(env: &EnvConfig, levels: LevelSet, sampler_seed: u64, num_envs: usize, workers: usize) -> Result<Self> {
        let workers = workers.clamp(1, num_envs.max(1));
        let mut shards = Vec::with_capacity(workers);
        let mut first_slot = 0;
        for w in 0..workers {
            let slots = num_envs / workers + usize::from(w < num_envs % workers);
            let envs = env.build_many(slots).context("building the environment")?;
            shards.push(VecEnv::new(envs, levels, sampler_seed, first_slot)?);
            first_slot += slots;
        }
        let space = shards[0].observation_space().clone();
        let num_actions = shards[0].num_actions();
        let handles = if shards.len() == 1 {
            shards.into_iter().map(Worker::inline).collect()
        } else {
            shards.into_iter().enumerate().map(|(w, venv)| Worker::spawn(venv, w)).collect::<Result<_>>()?
        };
        let mut pool = Self {
            workers: handles,
            obs: vec![0; num_envs * space.len()],
            boxes: vec![Vec::new(); num_envs],
            previous_obs: vec![0; num_envs * space.len()],
            previous_boxes: vec![Vec::new(); num_envs],
            space,
            num_actions,
        };
        pool.gather_initial_obs()?;
        Ok(pool)
    }

    /// The observation space of one env.
    pub fn observation_space(&self) -> &ObsSpace {
        &self.space
    }

    /// Number of actions of each env.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }

    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.workers.iter().map(|w| w.slots).sum()
    }

    /// The current observations of every env, in slot order.
    pub fn obs(&self) -> &[u8] {
        &self.obs
    }

    /// The object boxes of every env's current observation, in slot order.
    pub fn boxes(&self) -> &[Vec<LabelledBox>] {
        &self.boxes
    }

    /// The current observations with their object boxes, as the agent reads them.
    pub fn observations(&self) -> Observations<'_> {
        Observations::with_boxes(&self.obs, &self.boxes)
    }

    /// The observations (with their boxes) before the last [`WorkerPool::step`]: what the
    /// actions of that step were chosen from.
    pub fn previous_observations(&self) -> Observations<'_> {
        Observations::with_boxes(&self.previous_obs, &self.previous_boxes)
    }

    /// Steps every env; the new observations are in [`WorkerPool::obs`], the ones acted on in
    /// [`WorkerPool::previous_observations`].
    pub fn step(&mut self, actions: &[usize]) -> Result<VecStep> {
        if actions.len() != self.num_envs() {
            return Err(EnvError::ActionCount { expected: self.num_envs(), got: actions.len() }.into());
        }
        let mut start = 0;
        for w in &mut self.workers {
            let buffer = std::mem::take(&mut w.spare);
            w.send(Command::Step(actions[start..start + w.slots].to_vec(), buffer))?;
            start += w.slots;
        }
        std::mem::swap(&mut self.obs, &mut self.previous_obs);
        std::mem::swap(&mut self.boxes, &mut self.previous_boxes);
        let mut out = VecStep::default();
        let mut slot = 0;
        for w in &mut self.workers {
            let Reply::Stepped(step, observed) = w.receive()? else { unreachable!("a step gets a step reply") };
            w.spare = store(&mut self.obs, &mut self.boxes, slot, observed);
            slot += w.slots;
            out.append(*step);
        }
        Ok(out)
    }

    /// The state of every env slot, in slot order (for checkpoints).
    pub fn snapshot(&mut self) -> Result<Vec<SlotSnapshot>> {
        let mut all = Vec::with_capacity(self.num_envs());
        for w in &mut self.workers {
            w.send(Command::Snapshot)?;
        }
        for w in &mut self.workers {
            let Reply::Snapshot(s) = w.receive()? else { unreachable!("a snapshot gets a snapshot reply") };
            all.extend(s);
        }
        Ok(all)
    }

    /// Brings every env slot back to a [`WorkerPool::snapshot`].
    pub fn restore(&mut self, snapshots: &[SlotSnapshot]) -> Result<()> {
        if snapshots.len() != self.num_envs() {
            return Err(anyhow!(
                "the checkpoint has {} env slots, the config has {}",
                snapshots.len(),
                self.num_envs()
            ));
        }
        let mut start = 0;
        for w in &mut self.workers {
            w.send(Command::Restore(snapshots[start..start + w.slots].to_vec()))?;
            start += w.slots;
        }
        for w in &mut self.workers {
            w.receive()?;
        }
        self.gather_initial_obs()
    }

    /// Re-reads every shard's current observations (after building or restoring).
    fn gather_initial_obs(&mut self) -> Result<()> {
        let mut slot = 0;
        for w in &mut self.workers {
            w.send(Command::Observe)?;
            let Reply::Observed(observed) = w.receive()? else { unreachable!("observe gets observations") };
            w.spare = store(&mut self.obs, &mut self.boxes, slot, observed);
            slot += w.slots;
        }
        Ok(())
    }
}

/// Copies a shard's observations and boxes into the pool's, its first env being `first_slot`;
/// returns the shard's buffer for its next step.
fn store(
    all_obs: &mut [u8],
    all_boxes: &mut [Vec<LabelledBox>],
    first_slot: usize,
    (obs, objects): Observed,
) -> Vec<u8> {
    let offset = first_slot * all_obs.len() / all_boxes.len();
    all_obs[offset..offset + obs.len()].copy_from_slice(&obs);
    for (slot, boxes) in all_boxes[first_slot..].iter_mut().zip(labelled_batch(&objects)) {
        *slot = boxes;
    }
    obs
}

impl Worker {
    fn spawn(mut venv: VecEnv<AnyEnv>, index: usize) -> Result<Self> {
        let (commands, command_rx) = unbounded::<Command>();
        let (reply_tx, replies) = unbounded();
        let slots = venv.len();
        let thread = std::thread::Builder::new()
            .name(format!("rollout-worker-{index}"))
            .spawn(move || {
                for command in command_rx {
                    if reply_tx.send(execute(&mut venv, command)).is_err() {
                        break;
                    }
                }
            })
            .context("spawning a rollout worker")?;
        Ok(Self { runner: Runner::Thread { commands, replies, thread: Some(thread) }, slots, spare: Vec::new() })
    }

    fn inline(venv: VecEnv<AnyEnv>) -> Self {
        let slots = venv.len();
        Self { runner: Runner::Inline { venv: Box::new(venv), reply: None }, slots, spare: Vec::new() }
    }

    fn send(&mut self, command: Command) -> Result<()> {
        match &mut self.runner {
            Runner::Thread { commands, .. } => {
                commands.send(command).map_err(|_| anyhow!("a rollout worker stopped unexpectedly"))
            }
            Runner::Inline { venv, reply } => {
                *reply = Some(execute(venv, command));
                Ok(())
            }
        }
    }

    fn receive(&mut self) -> Result<Reply> {
        let reply = match &mut self.runner {
            Runner::Thread { replies, .. } => {
                replies.recv().map_err(|_| anyhow!("a rollout worker stopped unexpectedly"))?
            }
            Runner::Inline { reply, .. } => reply.take().expect("a command before each reply"),
        };
        Ok(reply?)
    }
}

/// Carries out one command on a shard.
fn execute(venv: &mut VecEnv<AnyEnv>, command: Command) -> Result<Reply, EnvError> {
    match command {
        Command::Observe => Ok(Reply::Observed((venv.obs().to_vec(), venv.objects()))),
        Command::Step(actions, buffer) => step(venv, &actions, buffer),
        Command::Snapshot => Ok(Reply::Snapshot(venv.snapshot())),
        Command::Restore(s) => venv.restore(&s).map(|()| Reply::Restored),
    }
}

/// Steps a shard and hands its new observations over in `buffer` (a fresh one on the first
/// step) without copying them.
fn step(venv: &mut VecEnv<AnyEnv>, actions: &[usize], mut buffer: Vec<u8>) -> Result<Reply, EnvError> {
    let step = venv.step(actions)?;
    buffer.resize(venv.obs().len(), 0);
    venv.swap_obs(&mut buffer)?;
    Ok(Reply::Stepped(Box::new(step), (buffer, venv.objects())))
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Runner::Thread { commands, thread, .. } = &mut self.runner {
            // Closing the command channel ends the worker's loop.
            let (closed, _) = unbounded();
            *commands = closed;
            if let Some(t) = thread.take() {
                let _ = t.join();
            }
        }
    }
}
