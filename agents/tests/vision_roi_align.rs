//! RoIAlign against torchvision: every case in `vision_fixtures/roi_align/` (float64 references
//! produced by `torchvision.ops.roi_align`), forward and backward.
//!
//! Error measure: `max |ours - reference| / max(max |reference|, 1e-6)`, the largest deviation
//! relative to the largest reference magnitude of the same array (element-wise relative errors
//! blow up on reference values near zero, which are common in gradients).

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use heldout_agents::vision::{BoxXyxy, Roi, RoiAlignConfig, VisionError, roi_align};
use serde_json::Value;

/// Largest accepted error in float32.
const TOLERANCE: f64 = 1e-5;

/// One fixture file.
struct Case {
    name: String,
    input_shape: [usize; 4],
    input: Vec<f32>,
    rois: Vec<Roi>,
    config: RoiAlignConfig,
    output_shape: [usize; 4],
    output: Vec<f64>,
    grad_output: Vec<f32>,
    grad_input: Vec<f64>,
}

fn numbers(value: &Value, key: &str) -> Vec<f64> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn shape(value: &Value, key: &str) -> [usize; 4] {
    let dims: Vec<usize> = numbers(value, key).iter().map(|&d| d as usize).collect();
    dims.try_into().expect("a rank-4 shape")
}

fn load_cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vision_fixtures/roi_align");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let rois = value["rois"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    let row: Vec<f64> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
                    Roi {
                        batch_index: row[0] as usize,
                        bbox: BoxXyxy::new(row[1] as f32, row[2] as f32, row[3] as f32, row[4] as f32),
                    }
                })
                .collect();
            let size: Vec<usize> = numbers(&value, "output_size").iter().map(|&d| d as usize).collect();
            let config = RoiAlignConfig::new([size[0], size[1]])
                .with_spatial_scale(value["spatial_scale"].as_f64().unwrap())
                .with_sampling_ratio(value["sampling_ratio"].as_i64().unwrap() as i32)
                .with_aligned(value["aligned"].as_bool().unwrap());
            let as_f32 = |key: &str| numbers(&value, key).iter().map(|&v| v as f32).collect();
            Case {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                input_shape: shape(&value, "input_shape"),
                input: as_f32("input"),
                rois,
                config,
                output_shape: shape(&value, "output_shape"),
                output: numbers(&value, "output"),
                grad_output: as_f32("grad_output"),
                grad_input: numbers(&value, "grad_input"),
            }
        })
        .collect()
}

fn relative_error(ours: &[f32], reference: &[f64]) -> f64 {
    assert_eq!(ours.len(), reference.len());
    let scale = reference.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-6);
    let worst = ours.iter().zip(reference).fold(0.0f64, |m, (a, b)| m.max((f64::from(*a) - b).abs()));
    worst / scale
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().iter().collect()
}

#[test]
fn fixtures_cover_every_mode() {
    let cases = load_cases();
    assert_eq!(cases.len(), 6, "six fixture cases");
    assert!(cases.iter().any(|c| c.config.aligned) && cases.iter().any(|c| !c.config.aligned));
    assert!(cases.iter().any(|c| c.config.sampling_ratio <= 0) && cases.iter().any(|c| c.config.sampling_ratio > 0));
}

#[test]
fn forward_matches_torchvision() {
    let device = Device::flex();
    for case in load_cases() {
        let input = Tensor::<4>::from_data(TensorData::new(case.input.clone(), case.input_shape), &device);
        let output = roi_align(input, &case.rois, &case.config).unwrap();
        assert_eq!(output.dims(), case.output_shape, "{}", case.name);
        let error = relative_error(&values(output), &case.output);
        eprintln!("{}: forward relative error {error:e}", case.name);
        assert!(error < TOLERANCE, "{}: forward relative error {error:e}", case.name);
    }
}

#[test]
fn backward_matches_torchvision() {
    let device = Device::flex().autodiff();
    for case in load_cases() {
        let input =
            Tensor::<4>::from_data(TensorData::new(case.input.clone(), case.input_shape), &device).require_grad();
        let output = roi_align(input.clone(), &case.rois, &case.config).unwrap();
        let upstream = Tensor::<4>::from_data(TensorData::new(case.grad_output.clone(), case.output_shape), &device);
        let grads = (output * upstream).sum().backward();
        let grad = input.grad(&grads).expect("a gradient for the input");
        assert_eq!(grad.dims(), case.input_shape, "{}", case.name);
        let error = relative_error(&values(grad), &case.grad_input);
        eprintln!("{}: backward relative error {error:e}", case.name);
        assert!(error < TOLERANCE, "{}: backward relative error {error:e}", case.name);
    }
}

#[test]
fn rois_in_any_order_and_on_any_image() {
    // Pooling a shuffled list gives the same rows, shuffled the same way.
    let device = Device::flex();
    let case = load_cases().into_iter().find(|c| c.input_shape[0] > 1).expect("a case with two images");
    let input = Tensor::<4>::from_data(TensorData::new(case.input.clone(), case.input_shape), &device);
    let reversed: Vec<Roi> = case.rois.iter().rev().copied().collect();
    let forward = values(roi_align(input.clone(), &case.rois, &case.config).unwrap());
    let backward = values(roi_align(input, &reversed, &case.config).unwrap());
    let row = forward.len() / case.rois.len();
    for (k, chunk) in backward.chunks(row).enumerate() {
        let original = case.rois.len() - 1 - k;
        assert_eq!(chunk, &forward[original * row..(original + 1) * row]);
    }
}

#[test]
fn bad_rois_are_errors() {
    let device = Device::flex();
    let input = Tensor::<4>::zeros([2, 1, 4, 4], &device);
    let config = RoiAlignConfig::new([2, 2]);
    let bbox = BoxXyxy::new(0.0, 0.0, 2.0, 2.0);
    let out_of_range = roi_align(input.clone(), &[Roi { batch_index: 2, bbox }], &config);
    assert!(matches!(out_of_range, Err(VisionError::BatchIndexOutOfRange { batch_index: 2, batch_size: 2, .. })));
    let nan = Roi { batch_index: 0, bbox: BoxXyxy::new(f32::NAN, 0.0, 1.0, 1.0) };
    assert!(matches!(roi_align(input.clone(), &[nan], &config), Err(VisionError::NonFiniteBox { index: 0 })));
    let empty = RoiAlignConfig::new([0, 2]);
    assert!(matches!(roi_align(input.clone(), &[], &empty), Err(VisionError::InvalidConfig(_))));
    let none = roi_align(input, &[], &config).unwrap();
    assert_eq!(none.dims(), [0, 1, 2, 2]);
}
