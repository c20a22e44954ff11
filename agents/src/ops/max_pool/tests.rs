//! The custom max pooling against burn's generic one: outputs and input gradients, including
//! padded edges, overlapping windows and ties; and thread-count independence of the kernels.

use burn::tensor::module::max_pool2d as burn_max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::kernels::{self, PoolGeometry};
use super::max_pool2d;
use crate::ops::test_util::{random, to_vec};

/// One pooling configuration.
struct Case {
    shape: [usize; 4],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
}

fn cases() -> Vec<Case> {
    let case = |shape, kernel, stride, padding| Case { shape, kernel, stride, padding };
    vec![
        case([3, 4, 9, 8], [3, 3], [2, 2], [1, 1]), // IMPALA's pool on odd and even sides
        case([2, 3, 10, 10], [2, 2], [2, 2], [0, 0]), // MultiRoom's
        case([2, 2, 5, 7], [3, 2], [1, 3], [1, 0]), // rectangular, overlapping rows
        case([1, 1, 1, 1], [3, 3], [2, 2], [1, 1]), // one pixel, all padding around it
        case([2, 3, 12, 17], [3, 3], [3, 3], [1, 1]), // stride 3: three column phases
    ]
}

#[test]
fn forward_and_gradient_match_burns_pooling() {
    let device = Device::flex().autodiff();
    let mut rng = StdRng::seed_from_u64(5);
    for Case { shape, kernel, stride, padding } in cases() {
        // Values on a coarse grid, so that windows hold ties.
        let values: Vec<f32> = (0..shape.iter().product()).map(|_| rng.random_range(0..6) as f32).collect();
        let x_data = TensorData::new(values, shape);
        let out_shape = [
            shape[0],
            shape[1],
            (shape[2] + 2 * padding[0] - kernel[0]) / stride[0] + 1,
            (shape[3] + 2 * padding[1] - kernel[1]) / stride[1] + 1,
        ];
        let n_out = out_shape.iter().product();
        let loss_weights = TensorData::new(random(n_out, &mut rng), out_shape);
        let run = |ours: bool| {
            let x = Tensor::<4>::from_data(x_data.clone(), &device).require_grad();
            let out = if ours {
                max_pool2d(x.clone(), kernel, stride, padding)
            } else {
                burn_max_pool2d(x.clone(), MaxPoolOptions::new(kernel).with_stride(stride).with_padding(padding))
            };
            let grads = (out.clone() * Tensor::from_data(loss_weights.clone(), &device)).sum().backward();
            (to_vec(out.inner()), to_vec(x.grad(&grads).expect("x gradient")))
        };
        let ours = run(true);
        let reference = run(false);
        assert_eq!(ours, reference, "shape {shape:?} kernel {kernel:?} stride {stride:?} padding {padding:?}");
    }
}

#[test]
fn inference_pooling_matches_training_pooling() {
    let mut rng = StdRng::seed_from_u64(4);
    let values = random(2 * 3 * 81, &mut rng);
    let x = Tensor::<4>::from_data(TensorData::new(values, [2, 3, 9, 9]), &Device::flex());
    let eval = max_pool2d(x.clone(), [3, 3], [2, 2], [1, 1]);
    let train = max_pool2d(Tensor::from_data(x.into_data(), &Device::flex().autodiff()), [3, 3], [2, 2], [1, 1]);
    assert_eq!(to_vec(eval), to_vec(train.inner()));
}

#[test]
fn nan_wins_its_window() {
    let g = PoolGeometry { planes: 1, input: [2, 2], kernel: [2, 2], stride: [2, 2], padding: [0, 0] };
    let (out, indices) = kernels::forward(&g, &[1.0, f32::NAN, 3.0, 2.0]);
    assert!(out[0].is_nan());
    assert_eq!(indices, [1]);
}

#[test]
fn kernels_do_not_depend_on_the_thread_count() {
    let g = PoolGeometry { planes: 37, input: [9, 9], kernel: [3, 3], stride: [2, 2], padding: [1, 1] };
    let mut rng = StdRng::seed_from_u64(1);
    let x = random(37 * 81, &mut rng);
    let grad = random(37 * 25, &mut rng);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        pool.install(|| {
            let (out, indices) = kernels::forward(&g, &x);
            let dx = kernels::backward(&g, &grad, &indices);
            (out, indices, dx)
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        assert!(run(threads) == one, "{threads} threads differ from one");
    }
}
