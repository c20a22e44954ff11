//! Box utilities on hand-made cases: IoU, NMS, R-CNN deltas, pyramid levels, proposal labels.

use heldout_agents::vision::{BoxCoder, BoxXyxy, LabelledBox, ProposalConfig, ProposalLabel, PyramidLevel, nms};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-5
}

#[test]
fn iou_of_hand_made_pairs() {
    let a = BoxXyxy::new(0.0, 0.0, 2.0, 2.0);
    assert!(close(a.iou(&a), 1.0));
    // Half overlap along x: intersection 2, union 6.
    assert!(close(a.iou(&BoxXyxy::new(1.0, 0.0, 3.0, 2.0)), 2.0 / 6.0));
    // Corner overlap: intersection 1, union 7.
    assert!(close(a.iou(&BoxXyxy::new(1.0, 1.0, 3.0, 3.0)), 1.0 / 7.0));
    // Touching edges and disjoint boxes do not overlap.
    assert_eq!(a.iou(&BoxXyxy::new(2.0, 0.0, 4.0, 2.0)), 0.0);
    assert_eq!(a.iou(&BoxXyxy::new(5.0, 5.0, 6.0, 6.0)), 0.0);
    // Containment: 1 / 4.
    assert!(close(a.iou(&BoxXyxy::new(0.5, 0.5, 1.5, 1.5)), 0.25));
    // Empty boxes.
    let point = BoxXyxy::new(1.0, 1.0, 1.0, 1.0);
    assert_eq!(point.iou(&point), 0.0);
    assert_eq!(BoxXyxy::new(2.0, 2.0, 0.0, 0.0).area(), 0.0);
}

#[test]
fn nms_keeps_the_best_of_each_cluster() {
    let boxes = [
        BoxXyxy::new(0.0, 0.0, 10.0, 10.0),   // 0: cluster A, score 0.9
        BoxXyxy::new(1.0, 1.0, 11.0, 11.0),   // 1: cluster A (IoU 0.68 with 0), score 0.8
        BoxXyxy::new(20.0, 20.0, 30.0, 30.0), // 2: cluster B, score 0.7
        BoxXyxy::new(20.0, 25.0, 30.0, 35.0), // 3: IoU 1/3 with 2, score 0.95
        BoxXyxy::new(0.0, 5.0, 10.0, 15.0),   // 4: IoU 1/3 with 0, score 0.1
    ];
    let scores = [0.9, 0.8, 0.7, 0.95, 0.1];
    assert_eq!(nms(&boxes, &scores, 0.5), vec![3, 0, 2, 4]);
    // A lower threshold also suppresses the one-third overlaps.
    assert_eq!(nms(&boxes, &scores, 0.3), vec![3, 0]);
    // Threshold 1: nothing suppressed, order by score.
    assert_eq!(nms(&boxes, &scores, 1.0), vec![3, 0, 1, 2, 4]);
    assert!(nms(&[], &[], 0.5).is_empty());
}

#[test]
fn nms_breaks_ties_by_index_and_puts_nan_last() {
    let same = BoxXyxy::new(0.0, 0.0, 4.0, 4.0);
    let far = BoxXyxy::new(10.0, 10.0, 14.0, 14.0);
    assert_eq!(nms(&[same, same, far], &[0.5, 0.5, f32::NAN], 0.5), vec![0, 2]);
}

#[test]
fn coder_round_trip() {
    let coder = BoxCoder::default();
    let proposal = BoxXyxy::new(10.0, 12.0, 30.0, 22.0);
    let target = BoxXyxy::new(8.0, 15.0, 34.0, 20.0);
    let deltas = coder.encode(&proposal, &target);
    let back = coder.decode(&proposal, deltas);
    for (a, b) in [(back.x1, target.x1), (back.y1, target.y1), (back.x2, target.x2), (back.y2, target.y2)] {
        assert!((a - b).abs() < 1e-4, "{back:?} != {target:?}");
    }
    // Hand values with weights (10, 10, 5, 5): centres (20, 17) -> (21, 17.5), sizes 20x10 -> 26x5.
    let expected = [10.0 * 1.0 / 20.0, 10.0 * 0.5 / 10.0, 5.0 * (26.0f32 / 20.0).ln(), 5.0 * 0.5f32.ln()];
    for (d, e) in deltas.iter().zip(expected) {
        assert!(close(*d, e), "{deltas:?} != {expected:?}");
    }
    assert_eq!(coder.encode(&proposal, &proposal), [0.0; 4]);
    // Huge predicted scales are clipped instead of overflowing.
    assert!(coder.decode(&proposal, [0.0, 0.0, 1e6, 1e6]).is_finite());
}

#[test]
fn pyramid_levels_follow_box_size() {
    let square = |side: f32| BoxXyxy::new(0.0, 0.0, side, side);
    assert_eq!(PyramidLevel::for_box(&square(32.0)), PyramidLevel::P4);
    assert_eq!(PyramidLevel::for_box(&square(64.0)), PyramidLevel::P4);
    assert_eq!(PyramidLevel::for_box(&square(31.0)), PyramidLevel::P3);
    assert_eq!(PyramidLevel::for_box(&square(16.0)), PyramidLevel::P3);
    assert_eq!(PyramidLevel::for_box(&square(15.0)), PyramidLevel::P2);
    assert_eq!(PyramidLevel::for_box(&square(2.0)), PyramidLevel::P2);
    assert_eq!(PyramidLevel::for_box(&square(0.0)), PyramidLevel::P2);
    // sqrt(64 * 16) = 32.
    assert_eq!(PyramidLevel::for_box(&BoxXyxy::new(0.0, 0.0, 64.0, 16.0)), PyramidLevel::P4);
    assert_eq!(PyramidLevel::ALL.map(PyramidLevel::stride), [2, 4, 8]);
}

#[test]
fn proposals_are_labelled_by_overlap() {
    let coin = LabelledBox { class: 1, bbox: BoxXyxy::new(10.0, 10.0, 20.0, 20.0) };
    let saw = LabelledBox { class: 2, bbox: BoxXyxy::new(40.0, 40.0, 48.0, 48.0) };
    let objects = [coin, saw];
    assert_eq!(ProposalLabel::assign(&coin.bbox, &objects, 0.5), ProposalLabel::Object(coin));
    // IoU 0.6 with the coin.
    let shifted = BoxXyxy::new(12.5, 10.0, 22.5, 20.0);
    assert_eq!(ProposalLabel::assign(&shifted, &objects, 0.5), ProposalLabel::Object(coin));
    // IoU 1/3.
    let far = BoxXyxy::new(15.0, 10.0, 25.0, 20.0);
    assert_eq!(ProposalLabel::assign(&far, &objects, 0.5), ProposalLabel::Background);
    assert_eq!(ProposalLabel::assign(&far, &[], 0.5), ProposalLabel::Background);

    let config = ProposalConfig::new();
    let mut rng = StdRng::seed_from_u64(7);
    let proposals = config.sample(&objects, 64.0, 64.0, &mut rng);
    assert_eq!(proposals.len(), 2 * (1 + config.jittered_per_object) + config.random_per_image);
    for proposal in &proposals {
        let b = proposal.bbox;
        assert!(b.x1 >= 0.0 && b.y1 >= 0.0 && b.x2 <= 64.0 && b.y2 <= 64.0, "{b:?} outside the frame");
        assert!(b.width() >= 1.0 && b.height() >= 1.0, "{b:?} thinner than a pixel");
        assert_eq!(proposal.label, ProposalLabel::assign(&b, &objects, config.positive_iou));
    }
    // The ground-truth boxes themselves come first for each object, labelled with it.
    assert_eq!(proposals[0].label, ProposalLabel::Object(coin));
    assert_eq!(proposals[1 + config.jittered_per_object].label, ProposalLabel::Object(saw));
    // Same seed, same proposals.
    assert_eq!(proposals, config.sample(&objects, 64.0, 64.0, &mut StdRng::seed_from_u64(7)));
}
