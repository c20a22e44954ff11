//! The MultiRoom actor-critic, forward and backward, on `[rows, lanes]` buffers (one value per
//! sample in each row): conv 2x2 -> relu -> max-pool 2 -> conv -> relu -> conv -> relu (batch
//! norm after each relu-and-pool when on) -> dense or bottleneck -> dropout -> activation ->
//! policy and value heads. The same network as [`crate::nn::ActorCritic`] with a
//! [`crate::nn::MultiRoomCnn`] encoder, computed without a graph: each forward function returns
//! what its backward function needs.

use super::isa::{madd, multiversion};
use super::kernels::{add_bias_grads, apply, dot, sum, weight_grads};
use super::math;
use super::params::{Layout, Running, Shapes};
use super::plan::Plan;
use crate::Noise;
use crate::nn::Activation;
use crate::obs::ObsFormat;

/// Momentum of the running statistics and the variance epsilon (as [`crate::reg::BatchNorm`]).
const NORM_MOMENTUM: f32 = 0.1;
const NORM_EPSILON: f32 = 1e-5;
/// Below this `rho` the bottleneck takes `ln sigma = rho` (as [`crate::reg::Bottleneck`]).
const LOG_SIGMA_LINEAR_BELOW: f32 = -20.0;

/// A layer's forward plan and the plan of its input gradient.
#[derive(Debug, Clone)]
struct Layer {
    forward: Plan,
    backward: Plan,
}

impl Layer {
    fn new(forward: Plan) -> Layer {
        Layer { backward: forward.transpose(), forward }
    }
}

/// The network's geometry: shapes, layout and the plans of its layers.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    /// The shapes.
    pub shapes: Shapes,
    /// Where each tensor lies in the flat parameter vector.
    pub layout: Layout,
    /// The observation format.
    pub obs: ObsFormat,
    convs: [Layer; 3],
    /// Rows (channels times pixels) out of each convolution.
    conv_rows: [usize; 3],
    /// Pixels per channel out of each stage (after the pool for the first).
    stage_pixels: [usize; 3],
    /// The first convolution's output side, which the pool halves.
    pool_input: [usize; 2],
    pool_output: [usize; 2],
    latent: Layer,
    policy: Layer,
    value: Layer,
    /// `rho_shift` of the bottleneck, when the latent layer is one.
    pub bottleneck: Option<f32>,
    /// Dropout rate on the hidden layer.
    pub dropout: f64,
    activation: Activation,
}

impl Net {
    /// The geometry for `obs` inputs; `bottleneck` is the rho shift when the latent layer is
    /// the information bottleneck.
    pub(crate) fn new(
        obs: ObsFormat,
        shapes: Shapes,
        bottleneck: Option<f32>,
        dropout: f64,
        activation: Activation,
    ) -> Net {
        let k = shapes.kernel;
        let [c1, c2, c3] = shapes.channels;
        let conv1 = [obs.height + 1 - k, obs.width + 1 - k];
        let pooled = [conv1[0] / 2, conv1[1] / 2];
        let conv2 = [pooled[0] + 1 - k, pooled[1] + 1 - k];
        let conv3 = [conv2[0] + 1 - k, conv2[1] + 1 - k];
        let px = |s: [usize; 2]| s[0] * s[1];
        Net {
            layout: Layout::new(&shapes),
            obs,
            convs: [
                Layer::new(Plan::conv(obs.channels, [obs.height, obs.width], c1, k)),
                Layer::new(Plan::conv(c1, pooled, c2, k)),
                Layer::new(Plan::conv(c2, conv2, c3, k)),
            ],
            conv_rows: [c1 * px(conv1), c2 * px(conv2), c3 * px(conv3)],
            stage_pixels: [px(pooled), px(conv2), px(conv3)],
            pool_input: conv1,
            pool_output: pooled,
            latent: Layer::new(Plan::dense(shapes.features, shapes.latent_out)),
            policy: Layer::new(Plan::dense(shapes.hidden, shapes.actions)),
            value: Layer::new(Plan::dense(shapes.hidden, 1)),
            bottleneck,
            dropout,
            activation,
            shapes,
        }
    }

    /// Observations (HWC bytes, `samples` of them, picked by `indices` when given) as
    /// `[channels * height * width, lanes]` rows, scaled.
    pub(crate) fn input(&self, bytes: &[u8], indices: Option<&[usize]>) -> (Vec<f32>, usize) {
        let len = self.obs.len();
        let lanes = indices.map_or(bytes.len() / len, <[usize]>::len);
        let (c, plane) = (self.obs.channels, self.obs.height * self.obs.width);
        let images: Vec<&[u8]> =
            (0..lanes).map(|lane| &bytes[indices.map_or(lane, |i| i[lane]) * len..][..len]).collect();
        // Row by row, so that the writes run along the row (the block's images stay in cache).
        let mut x = Vec::with_capacity(len * lanes);
        for ch in 0..c {
            for p in 0..plane {
                x.extend(images.iter().map(|image| image[p * c + ch] as f32 * self.obs.scale));
            }
        }
        (x, lanes)
    }
}

/// A batch norm's values of one pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct NormPass {
    /// Its output rows.
    pub out: Vec<f32>,
    /// The normalised input `(x - mean) / sqrt(var + eps)`.
    xhat: Vec<f32>,
    /// `1 / sqrt(var + eps)` per channel.
    inv_std: Vec<f32>,
    /// Whether the batch's statistics were used (noise on), so that the gradient flows through them.
    batch_statistics: bool,
}

/// What the encoder's backward pass needs of its forward pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct EncoderPass {
    /// The relu outputs of the three convolutions.
    relu: [Vec<f32>; 3],
    /// The max-pool of the first.
    pooled: Vec<f32>,
    /// The batch norms' values (empty without batch norm).
    norms: Vec<NormPass>,
}

impl EncoderPass {
    /// The input rows of convolution `i` (1 or 2) and the features (`i = 3`).
    fn stage_output(&self, stage: usize) -> &[f32] {
        match self.norms.get(stage) {
            Some(norm) => &norm.out,
            None if stage == 0 => &self.pooled,
            None => &self.relu[stage],
        }
    }

    /// The encoder's output: `[features, lanes]`.
    pub(crate) fn features(&self) -> &[f32] {
        self.stage_output(2)
    }
}

/// The random numbers of one noisy head pass, drawn in the order of the generic path:
/// the bottleneck's `eps` then the dropout mask, each sample by sample.
#[derive(Debug, Clone, Default)]
pub(crate) struct NoiseDraws {
    /// `[hidden, lanes]` standard normals (empty without a bottleneck).
    pub eps: Vec<f32>,
    /// `[hidden, lanes]` dropout factors, 0 or `1 / (1 - rate)` (empty without dropout).
    pub mask: Vec<f32>,
}

/// What the head's backward pass needs of its forward pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadPass {
    /// The latent layer's output: `[hidden]` rows, or `[2 * hidden]` (mu, rho) for the bottleneck.
    latent: Vec<f32>,
    /// The bottleneck's sigma rows.
    sigma: Vec<f32>,
    /// The noise of this pass (empty when noise-free).
    noise: NoiseDraws,
    /// The activation's output rows.
    act: Vec<f32>,
    /// `[actions, lanes]` logits.
    pub logits: Vec<f32>,
    /// `[lanes]` values.
    pub values: Vec<f32>,
    /// `[lanes]` bottleneck KLs (empty without a bottleneck).
    pub kl: Vec<f32>,
}

/// The gradients the loss sends into one head pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadGrads {
    /// `[actions, lanes]`.
    pub logits: Vec<f32>,
    /// `[lanes]` (empty when the critic reads another pass).
    pub values: Vec<f32>,
    /// d loss / d kl of each sample (the same for all: `beta * weight / batch`).
    pub kl: f32,
}

multiversion!(FMA, WIDTH =>
/// The encoder's forward pass on `x` (`[obs rows, lanes]`). With [`Noise::On`] batch norm uses
/// the batch's statistics and folds them into `running`; with [`Noise::Off`] it uses `running`.
pub(crate) fn encode(net: &Net, params: &[f32], running: &mut [Running], x: &[f32], lanes: usize, noise: Noise) -> EncoderPass {
    let l = &net.layout;
    let mut pass = EncoderPass::default();
    for stage in 0..3 {
        let input = if stage == 0 { x } else { pass.stage_output(stage - 1) };
        let mut out = vec![0.0f32; net.conv_rows[stage] * lanes];
        apply::<FMA, WIDTH>(&net.convs[stage].forward, &params[l.conv_weight[stage].clone()], Some(&params[l.conv_bias[stage].clone()]), input, &mut out, lanes);
        out.iter_mut().for_each(|v| *v = v.max(0.0));
        pass.relu[stage] = out;
        if stage == 0 {
            pass.pooled = max_pool(&pass.relu[0], net.shapes.channels[0], net.pool_input, net.pool_output, lanes);
        }
        if let Some(stats) = running.get_mut(stage) {
            let input = if stage == 0 { &pass.pooled } else { &pass.relu[stage] };
            let scale = &params[l.norm_scale[stage].clone()];
            let shift = &params[l.norm_shift[stage].clone()];
            let norm = normalize::<FMA>(input, scale, shift, stats, net.stage_pixels[stage], lanes, noise);
            pass.norms.push(norm);
        }
    }
    pass
});

/// 2x2 max pooling with stride 2 of `channels` planes `input` -> `output` (rounded down); a
/// tie goes to the first maximum row by row, as in [`crate::ops::max_pool`].
#[inline(always)]
fn max_pool(x: &[f32], channels: usize, [h, w]: [usize; 2], [oh, ow]: [usize; 2], lanes: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; channels * oh * ow * lanes];
    for c in 0..channels {
        for y in 0..oh {
            for xo in 0..ow {
                let o = &mut out[((c * oh + y) * ow + xo) * lanes..][..lanes];
                let row = |dy: usize, dx: usize| &x[((c * h + 2 * y + dy) * w + 2 * xo + dx) * lanes..][..lanes];
                let (a, b, cc, d) = (row(0, 0), row(0, 1), row(1, 0), row(1, 1));
                for j in 0..lanes {
                    o[j] = a[j].max(b[j]).max(cc[j]).max(d[j]);
                }
            }
        }
    }
    out
}

/// The gradient of [`max_pool`]: each output gradient goes to its window's first maximum.
#[inline(always)]
fn max_pool_grad(
    x: &[f32],
    pooled: &[f32],
    grad: &[f32],
    channels: usize,
    [h, w]: [usize; 2],
    [oh, ow]: [usize; 2],
    lanes: usize,
) -> Vec<f32> {
    let mut d = vec![0.0f32; x.len()];
    for c in 0..channels {
        for y in 0..oh {
            for xo in 0..ow {
                let o = ((c * oh + y) * ow + xo) * lanes;
                let at = |dy: usize, dx: usize| ((c * h + 2 * y + dy) * w + 2 * xo + dx) * lanes;
                let [t0, t2] = [at(0, 0), at(1, 0)];
                let row = |t: usize| &x[t..][..lanes];
                let [x0, x1, x2] = [row(t0), row(t0 + lanes), row(t2)];
                // The window's rows, each `lanes` long: (0, 0) and (0, 1) side by side, then
                // (1, 0) and (1, 1).
                let (top, bottom) = d[t0..t2 + 2 * lanes].split_at_mut(t2 - t0);
                let (d0, d1) = top[..2 * lanes].split_at_mut(lanes);
                let (d2, d3) = bottom.split_at_mut(lanes);
                let (m, g) = (&pooled[o..][..lanes], &grad[o..][..lanes]);
                for j in 0..lanes {
                    // Branch-free "first tap equal to the maximum" (the windows do not overlap).
                    // (`&`, not `&&`: every lane reads every tap, so the loop runs on vectors.)
                    let hit0 = x0[j] == m[j];
                    let hit1 = !hit0 & (x1[j] == m[j]);
                    let hit2 = !hit0 & !hit1 & (x2[j] == m[j]);
                    let hit3 = !hit0 & !hit1 & !hit2;
                    // The gradient where hit, else +0: its bits masked.
                    let pass = |hit: bool| f32::from_bits(g[j].to_bits() & 0u32.wrapping_sub(hit as u32));
                    d0[j] = pass(hit0);
                    d1[j] = pass(hit1);
                    d2[j] = pass(hit2);
                    d3[j] = pass(hit3);
                }
            }
        }
    }
    d
}

/// Batch norm of `[channels * pixels, lanes]` rows (see [`crate::reg::BatchNorm`]).
#[inline(always)]
fn normalize<const FMA: bool>(
    x: &[f32],
    scale: &[f32],
    shift: &[f32],
    running: &mut Running,
    pixels: usize,
    lanes: usize,
    noise: Noise,
) -> NormPass {
    let channels = scale.len();
    let n = pixels * lanes;
    let mut pass = NormPass {
        out: vec![0.0; x.len()],
        xhat: vec![0.0; x.len()],
        inv_std: vec![0.0; channels],
        batch_statistics: noise == Noise::On,
    };
    for c in 0..channels {
        let rows = c * n..(c + 1) * n;
        let xc = &x[rows.clone()];
        let (mean, inv_std) = match noise {
            Noise::On => {
                let mean = sum(xc) / n as f32;
                let mut sq = [0.0f32; 16];
                for (j, v) in xc.iter().enumerate() {
                    let d = v - mean;
                    sq[j % 16] = madd::<FMA>(d, d, sq[j % 16]);
                }
                let var = sum(&sq) / n as f32;
                let unbiased = n as f32 / (n.max(2) - 1) as f32;
                running.mean[c] = running.mean[c] * (1.0 - NORM_MOMENTUM) + mean * NORM_MOMENTUM;
                running.var[c] = running.var[c] * (1.0 - NORM_MOMENTUM) + var * NORM_MOMENTUM * unbiased;
                (mean, 1.0 / (var + NORM_EPSILON).sqrt())
            }
            Noise::Off => (running.mean[c], 1.0 / (running.var[c] + NORM_EPSILON).sqrt()),
        };
        pass.inv_std[c] = inv_std;
        let (g, b) = (scale[c], shift[c]);
        for ((o, h), v) in pass.out[rows.clone()].iter_mut().zip(&mut pass.xhat[rows.clone()]).zip(xc) {
            *h = (v - mean) * inv_std;
            *o = madd::<FMA>(g, *h, b);
        }
    }
    pass
}

/// The gradient of [`normalize`]: the input gradient, with the scale and shift gradients added
/// to `d_scale` and `d_shift`.
#[inline(always)]
fn normalize_grad<const FMA: bool>(
    pass: &NormPass,
    grad: &[f32],
    scale: &[f32],
    d_scale: &mut [f32],
    d_shift: &mut [f32],
    pixels: usize,
    lanes: usize,
) -> Vec<f32> {
    let n = pixels * lanes;
    let mut d = vec![0.0f32; grad.len()];
    for c in 0..scale.len() {
        let rows = c * n..(c + 1) * n;
        let (g, xhat) = (&grad[rows.clone()], &pass.xhat[rows.clone()]);
        let sum_g = sum(g);
        let sum_gx = dot::<FMA>(g, xhat);
        d_scale[c] += sum_gx;
        d_shift[c] += sum_g;
        let k = scale[c] * pass.inv_std[c];
        let dc = &mut d[rows];
        if pass.batch_statistics {
            let (mean_g, mean_gx) = (sum_g / n as f32, sum_gx / n as f32);
            for ((o, &g), &h) in dc.iter_mut().zip(g).zip(xhat) {
                *o = k * (g - mean_g - h * mean_gx);
            }
        } else {
            for (o, &g) in dc.iter_mut().zip(g) {
                *o = k * g;
            }
        }
    }
    d
}

/// The latent layer's output on some features and what depends on it alone: shared by the
/// noise-free and noisy head passes over the same features.
#[derive(Debug, Clone, Default)]
pub(crate) struct LatentPass {
    /// The latent layer's output: `[hidden]` rows, or `[2 * hidden]` (mu, rho) for the bottleneck.
    latent: Vec<f32>,
    /// The bottleneck's sigma rows (empty without a bottleneck).
    sigma: Vec<f32>,
    /// `[lanes]` bottleneck KLs (empty without a bottleneck).
    kl: Vec<f32>,
}

multiversion!(FMA, WIDTH =>
/// The latent layer on `features`, with the bottleneck's sigma and KL when `noise_stats` (a
/// training pass, or a noisy one, needs them; noise-free inference reads only mu).
pub(crate) fn latent(net: &Net, params: &[f32], features: &[f32], lanes: usize, noise_stats: bool) -> LatentPass {
    let l = &net.layout;
    let hidden = net.shapes.hidden;
    let mut latent = vec![0.0f32; net.shapes.latent_out * lanes];
    apply::<FMA, WIDTH>(&net.latent.forward, &params[l.latent_weight.clone()], Some(&params[l.latent_bias.clone()]), features, &mut latent, lanes);
    let Some(shift) = net.bottleneck.filter(|_| noise_stats) else { return LatentPass { latent, ..LatentPass::default() } };
    let n = hidden * lanes;
    let (mu, rho) = latent.split_at(n);
    let mut sigma = vec![0.0f32; n];
    let mut kl_terms = vec![0.0f32; n];
    for i in 0..n {
        let r = rho[i] - shift;
        let s = math::softplus::<FMA>(r);
        let log_s = if r < LOG_SIGMA_LINEAR_BELOW { r } else { math::ln::<FMA>(s.max(1e-30)) };
        sigma[i] = s;
        kl_terms[i] = (madd::<FMA>(mu[i], mu[i], s * s) - 1.0) * 0.5 - log_s;
    }
    let mut kl = vec![0.0f32; lanes];
    for row in kl_terms.chunks_exact(lanes) {
        kl.iter_mut().zip(row).for_each(|(k, t)| *k += t);
    }
    LatentPass { latent, sigma, kl }
});

multiversion!(FMA, WIDTH =>
/// The head's forward pass from the latent layer's pass; `noise` holds the draws of a noisy
/// pass (empty vectors for a noise-free one).
pub(crate) fn head(net: &Net, params: &[f32], latent: LatentPass, lanes: usize, noise: NoiseDraws) -> HeadPass {
    let l = &net.layout;
    let n = net.shapes.hidden * lanes;
    let mut h = latent.latent[..n].to_vec();
    if net.bottleneck.is_some() && !noise.eps.is_empty() {
        let (mu, sigma, eps) = (&latent.latent[..n], &latent.sigma[..n], &noise.eps[..n]);
        for i in 0..n {
            h[i] = madd::<FMA>(sigma[i], eps[i], mu[i]);
        }
    }
    if !noise.mask.is_empty() {
        h.iter_mut().zip(&noise.mask).for_each(|(v, m)| *v *= m);
    }
    match net.activation {
        Activation::Tanh => h.iter_mut().for_each(|v| *v = math::tanh::<FMA>(*v)),
        Activation::Relu => h.iter_mut().for_each(|v| *v = v.max(0.0)),
    }
    let mut logits = vec![0.0f32; net.shapes.actions * lanes];
    apply::<FMA, WIDTH>(&net.policy.forward, &params[l.policy_weight.clone()], Some(&params[l.policy_bias.clone()]), &h, &mut logits, lanes);
    let mut values = vec![0.0f32; lanes];
    apply::<FMA, WIDTH>(&net.value.forward, &params[l.value_weight.clone()], Some(&params[l.value_bias.clone()]), &h, &mut values, lanes);
    HeadPass { latent: latent.latent, sigma: latent.sigma, noise, act: h, logits, values, kl: latent.kl }
});

multiversion!(FMA, WIDTH =>
/// The head's backward pass down to the latent layer's output: adds the heads' parameter
/// gradients to `grads` and returns the gradient with respect to the latent layer's output
/// (`[latent_out, lanes]`), which [`latent_grad`] takes on.
pub(crate) fn head_grad(net: &Net, params: &[f32], pass: &HeadPass, d: &HeadGrads, grads: &mut [f32], lanes: usize) -> Vec<f32> {
    let l = &net.layout;
    let hidden = net.shapes.hidden;
    weight_grads::<FMA, WIDTH>(&net.policy.forward, &d.logits, &pass.act, &mut grads[l.policy_weight.clone()], lanes);
    add_bias_grads(&net.policy.forward, &d.logits, &mut grads[l.policy_bias.clone()], lanes);
    let mut d_act = vec![0.0f32; hidden * lanes];
    apply::<FMA, WIDTH>(&net.policy.backward, &params[l.policy_weight.clone()], None, &d.logits, &mut d_act, lanes);
    if !d.values.is_empty() {
        weight_grads::<FMA, WIDTH>(&net.value.forward, &d.values, &pass.act, &mut grads[l.value_weight.clone()], lanes);
        add_bias_grads(&net.value.forward, &d.values, &mut grads[l.value_bias.clone()], lanes);
        let w = &params[l.value_weight.clone()];
        for (u, row) in d_act.chunks_exact_mut(lanes).enumerate() {
            row.iter_mut().zip(&d.values).for_each(|(a, &g)| *a = madd::<FMA>(w[u], g, *a));
        }
    }
    // Through the activation, then the dropout mask.
    match net.activation {
        Activation::Tanh => d_act.iter_mut().zip(&pass.act).for_each(|(g, &a)| *g *= 1.0 - a * a),
        Activation::Relu => d_act.iter_mut().zip(&pass.act).for_each(|(g, &a)| if a <= 0.0 { *g = 0.0 }),
    }
    if !pass.noise.mask.is_empty() {
        d_act.iter_mut().zip(&pass.noise.mask).for_each(|(g, m)| *g *= m);
    }
    match net.bottleneck {
        None => d_act,
        Some(shift) => {
            let (mu, rho) = pass.latent.split_at(hidden * lanes);
            let mut dl = vec![0.0f32; 2 * hidden * lanes];
            let (d_mu, d_rho) = dl.split_at_mut(hidden * lanes);
            let c = d.kl;
            // Every slice `n` long, so that the loop runs on vectors without bounds checks.
            let n = hidden * lanes;
            let (mu, rho, sigma, d_act) = (&mu[..n], &rho[..n], &pass.sigma[..n], &d_act[..n]);
            let noisy = !pass.noise.eps.is_empty();
            let eps = if noisy { &pass.noise.eps[..n] } else { sigma };
            for i in 0..n {
                let dz = d_act[i];
                let s = sigma[i];
                let r = rho[i] - shift;
                // kl = (mu^2 + s^2 - 1) / 2 - ln s, z = mu (+ s * eps).
                d_mu[i] = madd::<FMA>(c, mu[i], dz);
                let d_s = if noisy { madd::<FMA>(dz, eps[i], c * s) } else { c * s };
                let sig = math::sigmoid::<FMA>(r);
                d_rho[i] = if r < LOG_SIGMA_LINEAR_BELOW { madd::<FMA>(d_s, sig, -c) } else { sig * (d_s - c / s.max(1e-30)) };
            }
            dl
        }
    }
});

multiversion!(FMA, WIDTH =>
/// The latent layer's backward pass from the gradient `d_latent` of its output on `features`:
/// adds its parameter gradients to `grads` and returns the gradient with respect to `features`.
/// Two head passes over the same features go through it once, with their gradients added.
pub(crate) fn latent_grad(net: &Net, params: &[f32], features: &[f32], d_latent: &[f32], grads: &mut [f32], lanes: usize) -> Vec<f32> {
    let l = &net.layout;
    weight_grads::<FMA, WIDTH>(&net.latent.forward, d_latent, features, &mut grads[l.latent_weight.clone()], lanes);
    add_bias_grads(&net.latent.forward, d_latent, &mut grads[l.latent_bias.clone()], lanes);
    let mut d_features = vec![0.0f32; net.shapes.features * lanes];
    apply::<FMA, WIDTH>(&net.latent.backward, &params[l.latent_weight.clone()], None, d_latent, &mut d_features, lanes);
    d_features
});

multiversion!(FMA, WIDTH =>
/// The encoder's backward pass from the feature gradient `d_features`: adds its parameter
/// gradients to `grads` (the observation needs no gradient).
pub(crate) fn encode_grad(net: &Net, params: &[f32], x: &[f32], pass: &EncoderPass, d_features: Vec<f32>, grads: &mut [f32], lanes: usize) {
    let l = &net.layout;
    let mut d = d_features;
    for stage in (0..3).rev() {
        if let Some(norm) = pass.norms.get(stage) {
            let (scale, shift) = (l.norm_scale[stage].clone(), l.norm_shift[stage].clone());
            let (d_scale, d_shift) = two_ranges(grads, scale.clone(), shift);
            d = normalize_grad::<FMA>(norm, &d, &params[scale], d_scale, d_shift, net.stage_pixels[stage], lanes);
        }
        if stage == 0 {
            d = max_pool_grad(&pass.relu[0], &pass.pooled, &d, net.shapes.channels[0], net.pool_input, net.pool_output, lanes);
        }
        d.iter_mut().zip(&pass.relu[stage]).for_each(|(g, &a)| if a <= 0.0 { *g = 0.0 });
        let input = if stage == 0 { x } else { pass.stage_output(stage - 1) };
        let conv = &net.convs[stage];
        weight_grads::<FMA, WIDTH>(&conv.forward, &d, input, &mut grads[l.conv_weight[stage].clone()], lanes);
        add_bias_grads(&conv.forward, &d, &mut grads[l.conv_bias[stage].clone()], lanes);
        if stage > 0 {
            let mut d_in = vec![0.0f32; conv.forward.inputs * lanes];
            apply::<FMA, WIDTH>(&conv.backward, &params[l.conv_weight[stage].clone()], None, &d, &mut d_in, lanes);
            d = d_in;
        }
    }
});

/// Two disjoint ranges of `v`, mutably (`a` before `b`).
#[inline(always)]
fn two_ranges(v: &mut [f32], a: std::ops::Range<usize>, b: std::ops::Range<usize>) -> (&mut [f32], &mut [f32]) {
    debug_assert!(a.end <= b.start);
    let (left, right) = v.split_at_mut(b.start);
    (&mut left[a], &mut right[..b.end - b.start])
}
