//! End-to-end: `heldout eval --uncertainty` measures, writes its report, and refuses an agent
//! without a noise source.

mod common;

use common::*;

#[test]
fn uncertainty_is_measured_reproducibly_and_needs_a_noise_source() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let args = tiny_args("noisy", 2);
    heldout_ok(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let eval = ["eval", "noisy", "--episodes", "6", "--uncertainty", "4", "--out"];
    let out = heldout_ok(dir, &[&eval[..], &["u1"]].concat());
    assert!(out.contains("mean U, held-out levels") && out.contains("AUROC"), "{out}");
    let csv = std::fs::read_to_string(dir.join("u1/uncertainty.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 12, "{csv}");
    for line in csv.lines().skip(1) {
        let u: f64 = line.split(',').nth(3).unwrap().parse().unwrap();
        assert!(u >= 0.0 && u.is_finite(), "{line}");
    }
    assert!(
        csv.lines().skip(1).any(|l| l.split(',').nth(3).unwrap().parse::<f64>().unwrap() > 0.0),
        "the bottleneck's noise spreads the policy"
    );
    assert!(image::open(dir.join("u1/uncertainty.png")).unwrap().width() > 100);
    let events = read_events(&dir.join("u1"));
    assert!(events.iter().any(|(t, _, _)| t == "uncertainty/test_states"));
    heldout_ok(dir, &[&eval[..], &["u2"]].concat());
    assert_eq!(csv, std::fs::read_to_string(dir.join("u2/uncertainty.csv")).unwrap(), "same seed, same numbers");

    let mut plain = tiny_args("plain", 1);
    plain.extend(["--set".to_string(), "method=baseline".to_string()]);
    heldout_ok(dir, &plain.iter().map(String::as_str).collect::<Vec<_>>());
    let err = heldout_err(dir, &["eval", "plain", "--episodes", "2", "--uncertainty", "4"]);
    assert!(err.contains("no noise source"), "{err}");
}
