//! R-CNN box regression targets: a box relative to a proposal as `(dx, dy, dw, dh)`.

use super::boxes::BoxXyxy;

/// Largest `dw`/`dh` that [`BoxCoder::decode`] exponentiates, `ln(1000 / 16)` as in torchvision,
/// so that a wild prediction cannot overflow.
const MAX_LOG_SCALE: f32 = 4.135_166_6;

/// Encodes boxes as R-CNN deltas from proposals and back (Girshick et al. 2014, appendix C):
///
/// `dx = wx (gx - px) / pw`, `dy = wy (gy - py) / ph`, `dw = ww ln(gw / pw)`, `dh = wh ln(gh / ph)`
///
/// with `(px, py, pw, ph)` the proposal's centre and size and `(gx, gy, gw, gh)` the target's.
/// The weights scale the deltas to unit-ish variance; Faster R-CNN's box head uses `(10, 10, 5, 5)`
/// (the [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxCoder {
    /// `[wx, wy, ww, wh]`.
    pub weights: [f32; 4],
}

impl Default for BoxCoder {
    fn default() -> Self {
        Self { weights: [10.0, 10.0, 5.0, 5.0] }
    }
}

impl BoxCoder {
    /// The deltas that move `proposal` onto `target`; both need a positive width and height.
    pub fn encode(&self, proposal: &BoxXyxy, target: &BoxXyxy) -> [f32; 4] {
        let [wx, wy, ww, wh] = self.weights;
        let (px, py) = proposal.center();
        let (gx, gy) = target.center();
        [
            wx * (gx - px) / proposal.width(),
            wy * (gy - py) / proposal.height(),
            ww * (target.width() / proposal.width()).ln(),
            wh * (target.height() / proposal.height()).ln(),
        ]
    }

    /// The box that `deltas` make of `proposal` (the inverse of [`BoxCoder::encode`]).
    pub fn decode(&self, proposal: &BoxXyxy, deltas: [f32; 4]) -> BoxXyxy {
        let [wx, wy, ww, wh] = self.weights;
        let (px, py) = proposal.center();
        let (pw, ph) = (proposal.width(), proposal.height());
        let cx = px + deltas[0] / wx * pw;
        let cy = py + deltas[1] / wy * ph;
        let width = (deltas[2] / ww).min(MAX_LOG_SCALE).exp() * pw;
        let height = (deltas[3] / wh).min(MAX_LOG_SCALE).exp() * ph;
        BoxXyxy::from_center(cx, cy, width, height)
    }
}
