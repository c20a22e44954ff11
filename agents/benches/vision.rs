//! The `vision` encoder beside the IMPALA-CNN at batch 64 of 64x64x3 frames: forward (inference
//! device) and forward + backward (training device), plus the pyramid RoIAlign alone.
//!
//! `cargo bench -p heldout-agents --bench vision`

use burn::tensor::{Device, Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use heldout_agents::Noise;
use heldout_agents::ObsFormat;
use heldout_agents::backend::{inference_device, train_device};
use heldout_agents::init::Init;
use heldout_agents::nn::ImpalaConfig;
use heldout_agents::vision::{BoxXyxy, LabelledBox, PyramidPoolerConfig, VisionEncoderConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The allocator of the `heldout` binary, so that the encoders are measured as they train.
#[global_allocator]
static ALLOCATOR: heldout_agents::allocator::Allocator = heldout_agents::allocator::Allocator;

const BATCH: usize = 64;
const SIZE: usize = 64;
/// Object boxes per frame (the encoder reads up to 8).
const OBJECTS: usize = 6;

fn frames(device: &Device) -> Tensor<4> {
    let mut rng = StdRng::seed_from_u64(0);
    let data: Vec<f32> = (0..BATCH * 3 * SIZE * SIZE).map(|_| rng.random::<f32>()).collect();
    Tensor::from_data(TensorData::new(data, [BATCH, 3, SIZE, SIZE]), device)
}

/// Boxes of 4 to 32 pixels anywhere in the frame: every pyramid level gets some.
fn objects() -> Vec<Vec<LabelledBox>> {
    let mut rng = StdRng::seed_from_u64(1);
    (0..BATCH)
        .map(|_| {
            (0..OBJECTS)
                .map(|_| {
                    let side = rng.random_range(4.0..32.0f32);
                    let (x, y) = (rng.random_range(0.0..SIZE as f32 - side), rng.random_range(0.0..SIZE as f32 - side));
                    LabelledBox { class: rng.random_range(0..7), bbox: BoxXyxy::new(x, y, x + side, y + side) }
                })
                .collect()
        })
        .collect()
}

fn init(device: &Device) -> Init {
    Init { device: device.clone(), rng: StdRng::seed_from_u64(2) }
}

fn bench(c: &mut Criterion) {
    heldout_agents::allocator::retain_freed_memory();
    let obs = ObsFormat::rgb(SIZE, SIZE);
    let boxes = objects();
    let mut group = c.benchmark_group("encoders_batch64");
    group.sample_size(10);
    for (pass, device) in [("forward", inference_device()), ("forward_backward", train_device())] {
        let x = frames(&device);
        let vision = VisionEncoderConfig::new().init(&obs, false, &mut init(&device)).expect("valid config");
        let impala = ImpalaConfig::default().init(&obs, false, &mut init(&device));
        let noise = if device.is_autodiff() { Noise::On } else { Noise::Off };
        let run = |features: Tensor<2>| {
            let total = features.sum();
            if total.is_autodiff() {
                std::hint::black_box(total.backward());
            } else {
                std::hint::black_box(total.into_scalar::<f32>());
            }
        };
        group.bench_function(format!("vision/{pass}"), |b| {
            b.iter(|| run(vision.forward(x.clone(), &boxes, noise).expect("valid batch")))
        });
        group.bench_function(format!("impala/{pass}"), |b| b.iter(|| run(impala.forward(x.clone(), noise))));
        let levels = vision
            .backbone
            .forward(x.clone(), noise)
            .map(|level| level.detach().set_require_grad(device.is_autodiff()));
        let lists: Vec<Vec<BoxXyxy>> = boxes.iter().map(|list| list.iter().map(|o| o.bbox).collect()).collect();
        let pooler = PyramidPoolerConfig::new();
        group.bench_function(format!("pyramid_roi_align/{pass}"), |b| {
            b.iter(|| {
                let pooled = pooler.pool(&levels, &lists).expect("valid boxes");
                run(pooled.flatten::<2>(1, 3))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
