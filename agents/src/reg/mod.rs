//! Regularizers with an explicit [`Noise`](crate::Noise) switch.
//!
//! | regularizer | noise on | noise off (the SNI rollout policy) |
//! |---|---|---|
//! | [`Dropout`] on the hidden layer | random mask, kept units scaled by 1/(1-rate) | identity |
//! | [`BatchNorm`] | batch statistics; running statistics updated | running statistics |
//! | [`Bottleneck`] (replaces the hidden dense layer) | `z = mu + sigma * eps` | `z = mu` |
//! | [`l2_penalty`] | (no noise) | (no noise) |
//! | [`augment`] cut-outs | training minibatches only | (never at rollout or evaluation) |

pub mod augment;
pub mod batch_norm;
pub mod bottleneck;
pub mod dropout;
pub mod l2;

pub use batch_norm::BatchNorm;
pub use bottleneck::{Bottleneck, BottleneckConfig};
pub use dropout::Dropout;
pub use l2::l2_penalty;

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, check_range};

/// Which regularizers are on; any combination is allowed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegularizerConfig {
    /// L2 weight penalty `l2 * 0.5 * sum(w^2)` over weight matrices and kernels (biases and
    /// batch-norm scales excluded), added to the loss (as CoinRun's `tf.nn.l2_loss`). 0 = off.
    pub l2: f64,
    /// Dropout rate on the hidden layer's output, in [0, 1). 0 = off.
    pub dropout: f64,
    /// Batch norm inside the encoder: after each conv (IMPALA), after each conv's ReLU
    /// (MultiRoom), after each hidden layer (MLP).
    pub batch_norm: bool,
    /// Information bottleneck in place of the hidden dense layer (its size is `hidden.size`).
    pub bottleneck: Option<BottleneckConfig>,
    /// Random coloured cut-out rectangles on training minibatch images (CoinRun's augmentation).
    pub augment: bool,
}

impl RegularizerConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), AgentError> {
        check_range("regularizers.l2", self.l2, 0.0, f64::MAX)?;
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(AgentError::config("regularizers.dropout", self.dropout, "[0, 1)"));
        }
        if let Some(b) = &self.bottleneck {
            b.validate()?;
        }
        Ok(())
    }
}
