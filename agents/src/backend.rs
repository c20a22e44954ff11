//! The one place that picks burn's backend.
//!
//! Default: burn's pure-Rust `flex` CPU backend. With the crate feature `tch`: LibTorch on the
//! CPU (needs libtorch 2.9.0 at build and run time, see the crate docs).
//!
//! Seeding: burn 0.22.1 seeds its random numbers with `Device::seed(u64)`, which for flex (and
//! LibTorch) sets one process-wide generator shared by every thread and device. Two agents
//! trained side by side (tests run in parallel threads) would interleave their draws, so heldout
//! never uses burn's generator: weight init, dropout masks, bottleneck noise, cut-outs and
//! minibatch shuffles are drawn from the agent's own seeded `StdRng` and uploaded as tensors.

use burn::tensor::Device;

/// The device for inference (rollouts, evaluation): no autodiff.
pub fn inference_device() -> Device {
    #[cfg(feature = "tch")]
    {
        #[allow(deprecated)] // burn 0.22 marks tch deprecated; it is an opt-in backend here.
        Device::libtorch()
    }
    #[cfg(not(feature = "tch"))]
    {
        Device::flex()
    }
}

/// The device the learner trains on: the inference device with autodiff.
pub fn train_device() -> Device {
    inference_device().autodiff()
}

/// Name of the selected backend, for logs and benchmark labels.
pub fn backend_name() -> &'static str {
    if cfg!(feature = "tch") { "tch" } else { "flex" }
}
