//! Procedurally generated reinforcement-learning environments for generalization research.
//!
//! Every level is a pure function of its level seed; [`LevelSet`] picks which seeds a run may
//! train or test on, as procgen's `start_level` / `num_levels` do. The API is shaped like
//! Gymnasium's: [`Env::reset`] returns `(obs, info)` and [`Env::step`] returns a [`Step`] whose
//! `truncated` flag (time limit) is never folded into `terminated`.

#![deny(missing_docs)]

pub mod coinrun;
mod env;
mod error;
#[cfg(feature = "gym-rs")]
pub mod gym;
pub mod label;
pub mod level;
pub mod multiroom;
mod objects;
pub mod registry;
mod space;
mod vec_env;

pub use env::{Env, Info, Step, Transition};
pub use error::EnvError;
pub use level::{LevelSampler, LevelSet};
pub use objects::{ObjectBox, ObjectClass};
pub use space::{ActionSpace, DType, ObsSpace, RgbFrame};
pub use vec_env::{EpisodeRecord, SlotSnapshot, VecEnv, VecStep};
