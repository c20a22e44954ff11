//! The network's trained tensors in one flat vector (values, gradients and Adam's moments share
//! the layout), and the copies to and from the burn module that checkpoints and the generic
//! path use.

use std::ops::Range;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Tensor, TensorData};

use crate::nn::actor_critic::Latent;
use crate::nn::{ActorCritic, Encoder};
use crate::reg::BatchNorm;

/// The shapes that decide the layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shapes {
    /// Input channels of the observation.
    pub obs_channels: usize,
    /// Output channels of the three convolutions.
    pub channels: [usize; 3],
    /// Side of the square kernels.
    pub kernel: usize,
    /// Encoder output features.
    pub features: usize,
    /// Outputs of the latent layer: `hidden`, or `2 * hidden` for the bottleneck.
    pub latent_out: usize,
    /// Hidden units (the heads' inputs).
    pub hidden: usize,
    /// Actions (policy logits).
    pub actions: usize,
    /// Whether each convolution is followed by batch norm.
    pub batch_norm: bool,
}

/// Where each trained tensor lies in the flat vector.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    /// Convolution kernels, `[c_out, c_in, k, k]` each.
    pub conv_weight: [Range<usize>; 3],
    /// Convolution biases.
    pub conv_bias: [Range<usize>; 3],
    /// Batch-norm scales (empty without batch norm).
    pub norm_scale: Vec<Range<usize>>,
    /// Batch-norm shifts.
    pub norm_shift: Vec<Range<usize>>,
    /// The latent layer's weight, `[features, latent_out]`.
    pub latent_weight: Range<usize>,
    /// Its bias.
    pub latent_bias: Range<usize>,
    /// The policy head's weight, `[hidden, actions]`.
    pub policy_weight: Range<usize>,
    /// Its bias.
    pub policy_bias: Range<usize>,
    /// The value head's weight, `[hidden, 1]`.
    pub value_weight: Range<usize>,
    /// Its bias.
    pub value_bias: Range<usize>,
    /// Length of the flat vector.
    pub len: usize,
}

impl Layout {
    /// The layout of a network of `shapes`.
    pub(crate) fn new(s: &Shapes) -> Layout {
        let mut cursor = 0usize;
        let mut range = |n: usize| {
            cursor += n;
            cursor - n..cursor
        };
        let c_in = [s.obs_channels, s.channels[0], s.channels[1]];
        let kk = s.kernel * s.kernel;
        let conv_weight = std::array::from_fn(|i| range(s.channels[i] * c_in[i] * kk));
        let conv_bias = std::array::from_fn(|i| range(s.channels[i]));
        let (mut norm_scale, mut norm_shift) = (Vec::new(), Vec::new());
        if s.batch_norm {
            for &c in &s.channels {
                norm_scale.push(range(c));
                norm_shift.push(range(c));
            }
        }
        let latent_weight = range(s.features * s.latent_out);
        let latent_bias = range(s.latent_out);
        let policy_weight = range(s.hidden * s.actions);
        let policy_bias = range(s.actions);
        let value_weight = range(s.hidden);
        let value_bias = range(1);
        Layout {
            conv_weight,
            conv_bias,
            norm_scale,
            norm_shift,
            latent_weight,
            latent_bias,
            policy_weight,
            policy_bias,
            value_weight,
            value_bias,
            len: cursor,
        }
    }

    /// The ranges of the weight matrices and kernels, which the L2 penalty covers (biases and
    /// batch-norm parameters excluded, as in [`crate::reg::l2_penalty`]).
    pub(crate) fn penalized(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.conv_weight.iter().cloned().chain([
            self.latent_weight.clone(),
            self.policy_weight.clone(),
            self.value_weight.clone(),
        ])
    }
}

/// A batch norm's running statistics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Running {
    /// Running mean per channel.
    pub mean: Vec<f32>,
    /// Running unbiased variance per channel.
    pub var: Vec<f32>,
}

/// The MultiRoom net's burn layers, borrowed in the layout's order.
fn layers(model: &ActorCritic) -> (&[crate::ops::conv::Conv], &[BatchNorm], &Linear) {
    let Encoder::MultiRoom(cnn) = &model.encoder else { unreachable!("the fused learner runs the MultiRoom net only") };
    let latent = match &model.latent {
        Latent::Dense(linear) => linear,
        Latent::Bottleneck(b) => &b.encode,
    };
    (&cnn.convs, &cnn.norms, latent)
}

fn read<const D: usize>(p: &Param<Tensor<D>>, out: &mut [f32]) {
    let v = p.val().into_data().try_into_vec::<f32>().expect("f32 parameters");
    out.copy_from_slice(&v);
}

fn read_bias(linear: &Linear, out: &mut [f32]) {
    match &linear.bias {
        Some(b) => read(b, out),
        None => out.fill(0.0),
    }
}

/// The trained tensors of `model` in `layout`, and its batch norms' running statistics.
pub(crate) fn import(model: &ActorCritic, layout: &Layout) -> (Vec<f32>, Vec<Running>) {
    let mut flat = vec![0.0f32; layout.len];
    let (convs, norms, latent) = layers(model);
    for (i, conv) in convs.iter().enumerate() {
        read(&conv.weight, &mut flat[layout.conv_weight[i].clone()]);
        read(&conv.bias, &mut flat[layout.conv_bias[i].clone()]);
    }
    let mut running = Vec::with_capacity(norms.len());
    for (i, norm) in norms.iter().enumerate() {
        read(&norm.gamma, &mut flat[layout.norm_scale[i].clone()]);
        read(&norm.beta, &mut flat[layout.norm_shift[i].clone()]);
        let v = |t: Tensor<1>| t.into_data().try_into_vec::<f32>().expect("f32 statistics");
        running.push(Running { mean: v(norm.running_mean.value_sync()), var: v(norm.running_var.value_sync()) });
    }
    read(&latent.weight, &mut flat[layout.latent_weight.clone()]);
    read_bias(latent, &mut flat[layout.latent_bias.clone()]);
    read(&model.policy.weight, &mut flat[layout.policy_weight.clone()]);
    read_bias(&model.policy, &mut flat[layout.policy_bias.clone()]);
    read(&model.value.weight, &mut flat[layout.value_weight.clone()]);
    read_bias(&model.value, &mut flat[layout.value_bias.clone()]);
    (flat, running)
}

fn write<const D: usize>(p: &mut Param<Tensor<D>>, values: &[f32]) {
    let values = values.to_vec();
    *p = p.clone().map(|t| Tensor::from_data(TensorData::new(values, t.shape()), &t.device()).require_grad());
}

fn write_linear(linear: &mut Linear, flat: &[f32], weight: &Range<usize>, bias: &Range<usize>) {
    write(&mut linear.weight, &flat[weight.clone()]);
    if let Some(b) = &mut linear.bias {
        write(b, &flat[bias.clone()]);
    }
}

/// Writes `flat` (in `layout`) and the running statistics into `model`, in place.
pub(crate) fn export(model: &mut ActorCritic, layout: &Layout, flat: &[f32], running: &[Running]) {
    let Encoder::MultiRoom(cnn) = &mut model.encoder else {
        unreachable!("the fused learner runs the MultiRoom net only")
    };
    for (i, conv) in cnn.convs.iter_mut().enumerate() {
        write(&mut conv.weight, &flat[layout.conv_weight[i].clone()]);
        write(&mut conv.bias, &flat[layout.conv_bias[i].clone()]);
    }
    for (i, (norm, stats)) in cnn.norms.iter_mut().zip(running).enumerate() {
        write(&mut norm.gamma, &flat[layout.norm_scale[i].clone()]);
        write(&mut norm.beta, &flat[layout.norm_shift[i].clone()]);
        let device = norm.gamma.val().device();
        let t = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device);
        norm.running_mean.update(t(&stats.mean));
        norm.running_var.update(t(&stats.var));
        norm.running_mean.value_sync();
        norm.running_var.value_sync();
    }
    let latent = match &mut model.latent {
        Latent::Dense(linear) => linear,
        Latent::Bottleneck(b) => &mut b.encode,
    };
    write_linear(latent, flat, &layout.latent_weight, &layout.latent_bias);
    write_linear(&mut model.policy, flat, &layout.policy_weight, &layout.policy_bias);
    write_linear(&mut model.value, flat, &layout.value_weight, &layout.value_bias);
}
