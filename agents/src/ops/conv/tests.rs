//! The custom convolution against burn's generic one: outputs and all three gradients, on
//! geometries covering every padding edge case; and thread-count independence of the kernels.

use burn::tensor::activation::relu;
use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::kernels::{self, ConvGeometry};
use super::{Conv, Input, Padding, conv2d};
use crate::init::Init;
use crate::ops::test_util::{random, to_vec};

fn geometries() -> Vec<ConvGeometry> {
    let g = |batch, c_in, input, c_out, kernel, padding| ConvGeometry { batch, c_in, input, c_out, kernel, padding };
    vec![
        g(3, 3, [9, 11], 16, [3, 3], [1, 1]), // IMPALA's "same" 3x3
        g(17, 4, [7, 7], 5, [2, 2], [0, 0]),  // MultiRoom's valid 2x2, batch over two partial sums
        g(2, 6, [5, 4], 4, [1, 1], [0, 0]),   // FPN's pointwise lateral
        g(2, 2, [6, 5], 3, [3, 3], [0, 0]),   // valid 3x3
        g(2, 3, [3, 2], 2, [5, 5], [2, 2]),   // kernel wider than the input: clipped column ranges
        g(1, 2, [1, 1], 3, [3, 3], [1, 1]),   // one pixel
        g(2, 2, [4, 6], 3, [3, 1], [1, 0]),   // rectangular kernel, padding on rows only
        g(3, 2, [5, 37], 9, [3, 3], [1, 1]),  // rows of 2 full and 1 partial 16-pixel chunks, 8 + 1 channels
        g(9, 4, [8, 8], 9, [3, 3], [1, 1]),   // IMPALA's 8x8 maps: the flat layout, two rows a chunk
        g(2, 3, [4, 4], 5, [3, 3], [1, 1]),   // flat, four rows a chunk
        g(2, 3, [2, 8], 4, [1, 1], [0, 0]),   // flat and pointwise
        g(2, 2, [4, 8], 3, [3, 1], [1, 0]),   // flat, padding on rows only
        g(2, 2, [8, 4], 3, [5, 5], [2, 2]),   // flat, a kernel wider than half a row
        g(2, 1, [5, 17], 3, [1, 1], [0, 0]),  // one tap: the weight gradient's single-tap tile
    ]
}

/// Max |a - b| relative to max |b|.
fn rel_error(a: &Tensor<4>, b: &Tensor<4>) -> f32 {
    let diff: f32 = (a.clone() - b.clone()).abs().max().into_scalar();
    let scale: f32 = b.clone().abs().max().into_scalar();
    diff / scale.max(1e-6)
}

#[test]
fn forward_and_gradients_match_burns_convolution() {
    let device = Device::flex().autodiff();
    let mut rng = StdRng::seed_from_u64(7);
    for (g, input) in geometries().into_iter().flat_map(|g| [(g, Input::AsIs), (g, Input::Relu)]) {
        let [kh, kw] = g.kernel;
        let x_shape = [g.batch, g.c_in, g.input[0], g.input[1]];
        let w_shape = [g.c_out, g.c_in, kh, kw];
        let x = TensorData::new(random(x_shape.iter().product(), &mut rng), x_shape);
        let w = TensorData::new(random(w_shape.iter().product(), &mut rng), w_shape);
        let b = TensorData::new(random(g.c_out, &mut rng), [g.c_out]);
        let [out_h, out_w] = g.output();
        let out_shape = [g.batch, g.c_out, out_h, out_w];
        // A loss that weighs every output differently, so that each gradient entry is checked.
        let loss_weights = TensorData::new(random(out_shape.iter().product(), &mut rng), out_shape);
        let run = |ours: bool| {
            let x = Tensor::<4>::from_data(x.clone(), &device).require_grad();
            let w = Tensor::<4>::from_data(w.clone(), &device).require_grad();
            let b = Tensor::<1>::from_data(b.clone(), &device).require_grad();
            let out = if ours {
                conv2d(x.clone(), w.clone(), b.clone(), g.padding, input)
            } else {
                let options = ConvOptions::new([1, 1], g.padding, [1, 1], 1);
                let read = match input {
                    Input::AsIs => x.clone(),
                    Input::Relu => relu(x.clone()),
                };
                burn_conv2d(read, w.clone(), Some(b.clone()), options)
            };
            let grads = (out.clone() * Tensor::from_data(loss_weights.clone(), &device)).sum().backward();
            let dx = x.grad(&grads).expect("x gradient");
            let dw = w.grad(&grads).expect("weight gradient");
            let db = b.grad(&grads).expect("bias gradient");
            (out.inner(), dx, dw, db)
        };
        let (out, dx, dw, db) = run(true);
        let (ref_out, ref_dx, ref_dw, ref_db) = run(false);
        assert_eq!(out.dims(), ref_out.dims(), "{g:?}");
        for (name, err) in [
            ("output", rel_error(&out, &ref_out)),
            ("input gradient", rel_error(&dx, &ref_dx)),
            ("weight gradient", rel_error(&dw, &ref_dw)),
        ] {
            assert!(err < 1e-5, "{name} differs by {err} for {g:?}, {input:?}");
        }
        let (db, ref_db) = (to_vec(db), to_vec(ref_db));
        for (a, r) in db.iter().zip(&ref_db) {
            assert!((a - r).abs() <= 1e-5 * r.abs().max(1.0), "bias gradient {a} vs {r} for {g:?}, {input:?}");
        }
    }
}

#[test]
fn kernels_do_not_depend_on_the_thread_count() {
    let g = ConvGeometry { batch: 21, c_in: 3, input: [8, 8], c_out: 4, kernel: [3, 3], padding: [1, 1] };
    let mut rng = StdRng::seed_from_u64(3);
    let x = random(g.batch * 3 * 64, &mut rng);
    let w = random(4 * 27, &mut rng);
    let grad = random(g.batch * 4 * 64, &mut rng);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        pool.install(|| {
            (
                kernels::forward(&g, &x, &w, &[0.5; 4], Input::Relu),
                kernels::input_grad(&g, &x, &w, &grad, Input::Relu),
                kernels::param_grads(&g, &x, &grad, Input::Relu),
            )
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        assert!(run(threads) == one, "{threads} threads differ from one");
    }
}

#[test]
fn layer_pads_as_configured() {
    let mut init = Init { device: Device::flex(), rng: StdRng::seed_from_u64(0) };
    let x = Tensor::<4>::zeros([2, 3, 9, 7], &init.device);
    let same = init.conv2d(3, 5, 3, Padding::Same, 1.0);
    let valid: Conv = init.conv2d(3, 5, 2, Padding::Valid, 1.0);
    assert_eq!(same.forward(x.clone()).dims(), [2, 5, 9, 7]);
    assert_eq!(valid.forward(x).dims(), [2, 5, 8, 6]);
}

#[test]
fn direct_and_im2col_paths_agree() {
    // On a CPU without AVX-512 `forward` is the im2col path itself and there is nothing to compare.
    if !super::direct::available() {
        return;
    }
    let mut rng = StdRng::seed_from_u64(11);
    for g in geometries() {
        let x = random(g.batch * g.c_in * g.input[0] * g.input[1], &mut rng);
        let w = random(g.c_out * g.c_in * g.kernel[0] * g.kernel[1], &mut rng);
        let b = random(g.c_out, &mut rng);
        let [out_h, out_w] = g.output();
        let grad = random(g.batch * g.c_out * out_h * out_w, &mut rng);
        let pairs = [
            ("forward", kernels::forward(&g, &x, &w, &b, Input::AsIs), kernels::im2col_forward(&g, &x, &w, &b)),
            (
                "input gradient",
                kernels::input_grad(&g, &x, &w, &grad, Input::AsIs),
                kernels::im2col_input_grad(&g, &w, &grad),
            ),
            (
                "weight gradient",
                kernels::direct_param_grads(&g, &x, &grad).0,
                kernels::im2col_param_grads(&g, &x, &grad).0,
            ),
        ];
        for (name, direct, im2col) in pairs {
            let scale = im2col.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            let diff = direct.iter().zip(&im2col).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff / scale < 1e-5, "{name} differs by {diff} (scale {scale}) for {g:?}");
        }
    }
}
