//! The learning half of heldout: burn models, PPO with Selective Noise Injection, regularizers
//! with an explicit noise switch, and the vision stack.

pub mod noise;

pub use noise::Noise;
