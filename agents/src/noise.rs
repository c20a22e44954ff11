//! The explicit noise switch of every layer that can inject noise.

/// Whether a forward pass injects noise (dropout masks, bottleneck sampling, batch statistics).
///
/// burn's own `Dropout` and `BatchNorm` decide this from the backend type; Selective Noise
/// Injection needs the noisy and the noise-free pass of the same weights in one autodiff graph,
/// so heldout's regularizing layers take this argument instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Noise {
    /// Inject noise: dropout masks, `z = mu + sigma * eps`, batch statistics.
    On,
    /// Noise-free: no dropout mask, `z = mu`, running statistics.
    Off,
}
