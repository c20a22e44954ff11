//! End-to-end: `heldout sweep` runs, summarises, resumes and prints commands.

mod common;

use common::*;

#[test]
fn two_point_sweep_writes_its_summary_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let commands = heldout_ok(tmp.path(), &[TINY_SWEEP, &["--print-commands"]].concat());
    let lines: Vec<&str> = commands.lines().collect();
    assert_eq!(lines.len(), 4, "{commands}");
    assert!(lines.iter().all(|l| l.contains(" train ") && l.contains("--run-dir runs/s/")));
    assert!(!tmp.path().join("runs/s").exists(), "--print-commands runs nothing");

    let out = heldout_ok(tmp.path(), TINY_SWEEP);
    let sweep = tmp.path().join("runs/s");
    for run in ["sni_lambda-0_seed-1", "sni_lambda-0_seed-2", "sni_lambda-1_seed-1", "sni_lambda-1_seed-2"] {
        assert!(sweep.join(run).join("result.toml").exists(), "{run} did not finish");
        assert!(!event_files(&sweep.join(run)).is_empty(), "{run} has no TensorBoard log");
    }
    let csv = std::fs::read_to_string(sweep.join("summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][..2], ["sni_lambda", "runs"]);
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!((rows[1][0], rows[1][1], rows[2][0], rows[2][1]), ("0", "2", "1", "2"));
    for r in &rows[1..] {
        let test: f64 = r[4].parse().unwrap();
        assert!((0.0..=1.0).contains(&test));
    }
    assert!(std::fs::read_to_string(sweep.join("summary.md")).unwrap().contains("| 0 | 2 |"));
    assert!(out.contains("test success"));
    if std::path::Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists() {
        let png = image::open(sweep.join("summary.png")).unwrap();
        assert!(png.width() > 100 && png.height() > 100);
    }

    // Running it again skips the finished runs and leaves their results alone.
    let before = std::fs::metadata(sweep.join("sni_lambda-0_seed-1/result.toml")).unwrap().modified().unwrap();
    let out = heldout(tmp.path(), TINY_SWEEP);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 already finished"));
    let after = std::fs::metadata(sweep.join("sni_lambda-0_seed-1/result.toml")).unwrap().modified().unwrap();
    assert_eq!(before, after);
}
