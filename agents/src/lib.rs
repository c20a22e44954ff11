//! The learning half of heldout: burn models, PPO with Selective Noise Injection, regularizers
//! with an explicit noise switch, and the vision stack.
//!
//! - [`Agent`]: act ([`Agent::act`]), learn ([`Agent::update`]), save and load;
//! - [`AgentConfig`]: encoder, hidden layer, regularizers, PPO, SNI, with the paper's presets;
//! - [`nn`]: the IMPALA-CNN, the MultiRoom conv net, an MLP, the `vision` encoder's config, the
//!   actor-critic;
//! - [`Observations`]: observation bytes, with the object boxes the `vision` encoder reads;
//! - [`reg`]: dropout, batch norm, the information bottleneck, L2 and cut-outs, each with a
//!   [`Noise`] switch;
//! - [`ppo`]: GAE, the losses, the learner;
//! - [`fused`]: the fused learner of the MultiRoom net (its kernels per instruction set);
//! - [`backend`]: flex (default) or LibTorch (feature `tch`);
//! - [`ops`]: the convolution and max pooling every conv net uses, added to burn as backend
//!   extensions with fast flex kernels (burn-flex's generic ones were most of an update's time);
//! - [`allocator`]: the allocator heldout's binaries and benchmarks install.
//!
//! # The `tch` feature
//! Needs libtorch 2.9.0: `python3 -m venv V && V/bin/pip install torch==2.9.0`, build with
//! `VIRTUAL_ENV=V LIBTORCH_USE_PYTORCH=1` (and `V/bin` on `PATH`), run with
//! `LD_LIBRARY_PATH=V/lib/python3.*/site-packages/torch/lib`.

#![deny(missing_docs)]

mod agent;
pub mod allocator;
pub mod backend;
pub mod checkpoint;
mod config;
mod error;
pub mod fused;
pub mod init;
pub mod nn;
mod noise;
mod obs;
pub mod ops;
pub mod ppo;
pub mod reg;
mod sample;
pub mod vision;

pub use agent::{ActOutput, Agent};
pub use config::AgentConfig;
pub use error::AgentError;
pub use fused::{Isa, Learner};
pub use nn::{EncoderConfig, HiddenConfig, VisionConfig};
pub use noise::Noise;
pub use obs::{ObsFormat, Observations};
pub use ppo::{PpoConfig, Rollout, UpdateStats};
pub use reg::{BottleneckConfig, RegularizerConfig};
