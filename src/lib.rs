//! heldout: train reinforcement-learning agents on a fixed set of procedurally generated levels
//! and measure how they do on levels they have never seen.
//!
//! The pieces: [`workers`] step the envs in parallel, [`collect`] gathers rollouts, [`trainer`]
//! runs the PPO loop with periodic [`evaluate`]-ion on training and held-out levels, logging to
//! TensorBoard ([`logger`]) and writing [`checkpoint`]s; [`sweep`] runs many trainings and
//! [`study`] the paper's comparison ([`method`]: its arms by name; [`aggregate`]: IQM, bootstrap
//! intervals, probability of improvement), here or as a Slurm job array ([`slurm`]);
//! [`uncertainty`] measures the spread of noisy predictions; [`pretrain`] trains the vision
//! backbone on object boxes ([`convert`]). The `heldout` command line (`src/cli/`, in the binary)
//! is built on these.

#![deny(missing_docs)]

pub mod aggregate;
mod atomic;
pub mod checkpoint;
pub mod collect;
pub mod config;
pub mod convert;
pub mod evaluate;
pub mod logger;
pub mod method;
pub mod paths;
pub mod picture;
mod plot;
pub mod pretrain;
mod progress;
pub mod slurm;
pub mod stats;
pub mod study;
pub mod sweep;
pub mod trainer;
pub mod uncertainty;
pub mod workers;
