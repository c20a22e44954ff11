//! The vision models: stage shapes, gradients through RoIAlign, detector training on a synthetic
//! set, the encoder and loading a pretrained backbone.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use heldout_agents::Noise;
use heldout_agents::ObsFormat;
use heldout_agents::init::Init;
use heldout_agents::vision::{
    BackboneConfig, BoxXyxy, DetectionHeadConfig, DetectorConfig, LabelledBox, Proposal, ProposalConfig,
    PyramidPoolerConfig, VisionEncoderConfig, VisionError,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn init(device: &Device, seed: u64) -> Init {
    Init { device: device.clone(), rng: StdRng::seed_from_u64(seed) }
}

fn frames(batch: usize, size: usize, device: &Device) -> Tensor<4> {
    let mut rng = StdRng::seed_from_u64(1);
    let data: Vec<f32> = (0..batch * 3 * size * size).map(|_| rng.random::<f32>()).collect();
    Tensor::from_data(TensorData::new(data, [batch, 3, size, size]), device)
}

fn objects() -> Vec<Vec<LabelledBox>> {
    vec![
        vec![
            LabelledBox { class: 1, bbox: BoxXyxy::new(30.0, 30.0, 36.0, 38.0) },
            LabelledBox { class: 4, bbox: BoxXyxy::new(0.0, 50.0, 40.0, 64.0) },
        ],
        vec![],
    ]
}

#[test]
fn every_stage_has_the_documented_shape() {
    let device = Device::flex();
    let obs = ObsFormat::rgb(64, 64);
    let config = BackboneConfig::new();
    config.validate(&obs).unwrap();
    let backbone = config.init(&obs, false, &mut init(&device, 0));
    let x = frames(2, 64, &device);
    let c = backbone.body.forward(x.clone(), Noise::Off);
    assert_eq!(c.each_ref().map(|m| m.dims()), [[2, 16, 32, 32], [2, 32, 16, 16], [2, 32, 8, 8]]);
    let p = backbone.fpn.forward(c);
    assert_eq!(p.each_ref().map(|m| m.dims()), [[2, 32, 32, 32], [2, 32, 16, 16], [2, 32, 8, 8]]);

    let pooler = PyramidPoolerConfig::new();
    let boxes: Vec<Vec<BoxXyxy>> = objects().iter().map(|l| l.iter().map(|o| o.bbox).collect()).collect();
    let pooled = pooler.pool(&p, &boxes).unwrap();
    assert_eq!(pooled.dims(), [2, 32, 4, 4]);

    let head = DetectionHeadConfig::new(7, 32, 4).init(&mut init(&device, 0));
    let out = head.forward(pooled);
    assert_eq!(out.class_logits.dims(), [2, 8]);
    assert_eq!(out.box_deltas.dims(), [2, 8, 4]);

    let encoder = VisionEncoderConfig::new().init(&obs, false, &mut init(&device, 0)).unwrap();
    let features = encoder.forward(x, &objects(), Noise::Off).unwrap();
    assert_eq!(features.dims(), [2, 256]);
    assert_eq!(encoder.config().out_features(), 256);
}

#[test]
fn gradients_reach_the_backbone_through_roi_align() {
    let device = Device::flex().autodiff();
    let obs = ObsFormat::rgb(64, 64);
    let backbone = BackboneConfig::new().init(&obs, false, &mut init(&device, 0));
    let p = backbone.forward(frames(2, 64, &device), Noise::On);
    let boxes = vec![vec![BoxXyxy::new(8.0, 8.0, 20.0, 20.0)], vec![BoxXyxy::new(10.0, 30.0, 50.0, 60.0)]];
    let loss = PyramidPoolerConfig::new().pool(&p, &boxes).unwrap().powf_scalar(2.0).sum();
    let grads = loss.backward();
    let weight = backbone.body.impala.stacks[0].conv.conv.weight.val();
    let grad = weight.grad(&grads).expect("the first conv gets a gradient");
    let norm: f32 = grad.abs().sum().into_scalar();
    assert!(norm > 0.0 && norm.is_finite(), "gradient norm {norm}");
}

/// Frames of coloured squares (class 0: red, class 1: green) on dim noise, with their boxes.
fn squares(count: usize, size: usize, rng: &mut StdRng) -> (Vec<f32>, Vec<Vec<LabelledBox>>) {
    let mut pixels = Vec::with_capacity(count * 3 * size * size);
    let mut boxes = Vec::with_capacity(count);
    for _ in 0..count {
        let mut frame: Vec<f32> = (0..3 * size * size).map(|_| rng.random::<f32>() * 0.3).collect();
        let mut objects = Vec::new();
        for class in 0..2 {
            let side = rng.random_range(6..12);
            let (x, y) = (rng.random_range(0..size - side), rng.random_range(0..size - side));
            for row in y..y + side {
                for col in x..x + side {
                    for channel in 0..3 {
                        frame[(channel * size + row) * size + col] = if channel == class { 1.0 } else { 0.0 };
                    }
                }
            }
            let bbox = BoxXyxy::new(x as f32, y as f32, (x + side) as f32, (y + side) as f32);
            objects.push(LabelledBox { class, bbox });
        }
        pixels.extend(frame);
        boxes.push(objects);
    }
    (pixels, boxes)
}

#[test]
fn training_the_detector_reduces_its_loss() {
    let device = Device::flex().autodiff();
    let size = 32;
    let obs = ObsFormat::rgb(size, size);
    let config = DetectorConfig::new(2)
        .with_backbone(BackboneConfig::new().with_channels([8, 16, 16]).with_fpn_channels(16))
        .with_hidden(64)
        .with_proposals(ProposalConfig::new().with_random_per_image(8).with_max_size(16.0));
    let mut detector = config.init(&obs, false, &mut init(&device, 3)).unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let batch = 8;
    let (pixels, targets) = squares(batch, size, &mut rng);
    let images = Tensor::<4>::from_data(TensorData::new(pixels, [batch, 3, size, size]), &device);
    let held: Vec<Vec<Proposal>> =
        targets.iter().map(|objects| config.proposals.sample(objects, size as f32, size as f32, &mut rng)).collect();
    let evaluate = |detector: &heldout_agents::vision::Detector| -> f32 {
        detector.loss_on(images.clone(), &held, Noise::Off).unwrap().total.into_scalar()
    };
    let before = evaluate(&detector);
    let mut optim = AdamConfig::new().init();
    for _ in 0..60 {
        let loss = detector.loss(images.clone(), &targets, &mut rng).unwrap();
        let grads = GradientsParams::from_grads(loss.total.backward(), &detector);
        detector = optim.step(2e-3, detector, grads);
    }
    let after = evaluate(&detector);
    eprintln!("detection loss on held proposals: {before} -> {after}");
    assert!(after < 0.5 * before, "loss {before} -> {after}");

    // The trained detector finds the red square from proposals around it.
    let frame = images.clone().narrow(0, 0, 1);
    let truth = targets[0][0];
    let proposals = vec![held[0].iter().map(|p| p.bbox).collect::<Vec<_>>()];
    let found = detector.valid().detect(frame.inner(), &proposals, 0.5, 0.5).unwrap();
    assert!(
        found[0].iter().any(|d| d.class == truth.class && d.bbox.iou(&truth.bbox) > 0.5),
        "{found:?} misses {truth:?}"
    );
}

#[test]
fn the_encoder_reads_the_boxes() {
    let device = Device::flex();
    let obs = ObsFormat::rgb(64, 64);
    let encoder = VisionEncoderConfig::new().init(&obs, false, &mut init(&device, 0)).unwrap();
    let x = frames(2, 64, &device);
    let with = encoder.forward(x.clone(), &objects(), Noise::Off).unwrap();
    let without = encoder.forward(x.clone(), &[vec![], vec![]], Noise::Off).unwrap();
    let first_differs: f32 = (with.clone() - without.clone()).narrow(0, 0, 1).abs().sum().into_scalar();
    let second_differs: f32 = (with - without).narrow(0, 1, 1).abs().sum().into_scalar();
    assert!(first_differs > 0.0, "the objects of frame 0 change its features");
    assert_eq!(second_differs, 0.0, "frame 1 has no objects either way");

    let bad_class = vec![vec![LabelledBox { class: 7, bbox: BoxXyxy::new(0.0, 0.0, 4.0, 4.0) }], vec![]];
    assert!(matches!(
        encoder.forward(x.clone(), &bad_class, Noise::Off),
        Err(VisionError::ClassOutOfRange { class: 7, num_classes: 7 })
    ));
    assert!(matches!(
        encoder.forward(x, &[vec![]], Noise::Off),
        Err(VisionError::BatchSizeMismatch { images: 2, boxes: 1 })
    ));
    assert!(matches!(
        encoder.forward(frames(1, 32, &device), &[vec![]], Noise::Off),
        Err(VisionError::ImageShape { .. })
    ));
    assert!(VisionEncoderConfig::new().validate(&ObsFormat::rgb(60, 60)).is_err());
}

#[test]
fn configs_round_trip_through_json() {
    let config =
        VisionEncoderConfig::new().with_max_objects(3).with_backbone(BackboneConfig::new().with_fpn_channels(8));
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(serde_json::from_str::<VisionEncoderConfig>(&json).unwrap(), config);
    let detector = DetectorConfig::new(7).with_proposals(ProposalConfig::new().with_jitter(0.1));
    let json = serde_json::to_string(&detector).unwrap();
    assert_eq!(serde_json::from_str::<DetectorConfig>(&json).unwrap(), detector);
}

#[test]
fn a_saved_backbone_loads_into_the_encoder() {
    let device = Device::flex();
    let obs = ObsFormat::rgb(64, 64);
    let detector = DetectorConfig::new(7).init(&obs, false, &mut init(&device, 11)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backbone.bpk");
    detector.backbone.save(&path).unwrap();
    let encoder = VisionEncoderConfig::new().init(&obs, false, &mut init(&device, 12)).unwrap();
    let x = frames(1, 64, &device);
    let fresh: Vec<f32> = encoder.backbone.forward(x.clone(), Noise::Off)[2].clone().into_data().iter().collect();
    let encoder = encoder.load_backbone(&path).unwrap();
    let loaded: Vec<f32> = encoder.backbone.forward(x.clone(), Noise::Off)[2].clone().into_data().iter().collect();
    let pretrained: Vec<f32> = detector.backbone.forward(x, Noise::Off)[2].clone().into_data().iter().collect();
    assert_ne!(fresh, pretrained, "different seeds, different weights");
    assert_eq!(loaded, pretrained, "bitwise the detector's backbone");
    // A backbone with batch norms does not take weights saved without them.
    let with_norm = VisionEncoderConfig::new().init(&obs, true, &mut init(&device, 12)).unwrap();
    assert!(with_norm.load_backbone(&path).is_err());
}
