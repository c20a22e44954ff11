//! A layer as a list of weighted rows: output row `r` is `bias[r] + sum of weight * input row`
//! over its terms. Convolutions and dense layers are both such lists (built once per network),
//! and their input gradients are the transposed lists, so one kernel runs all of them.

use std::collections::HashMap;
use std::ops::Range;

/// One term of an output row: `weights[weight] * input[row]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Term {
    /// Index into the layer's weights.
    pub weight: u32,
    /// Index of the input row.
    pub row: u32,
}

/// The terms of every output row (compressed rows), and each row's bias.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    starts: Vec<usize>,
    terms: Vec<Term>,
    /// Runs of consecutive rows whose terms use the same weights in the same order, with the
    /// same bias (a convolution's pixels of one output channel): their gradients add up in
    /// the same accumulators.
    pub shared_weights: Vec<Range<usize>>,
    /// Groups of rows whose terms read the same input rows in the same order (a convolution's
    /// output channels at one pixel, a dense layer's outputs), in order of their first row:
    /// their outputs are computed together from each load of an input row.
    pub shared_inputs: Vec<Vec<u32>>,
    /// Bias index of each output row.
    pub bias: Vec<u32>,
    /// Number of input rows.
    pub inputs: usize,
}

impl Plan {
    fn from_rows(rows: Vec<Vec<Term>>, bias: Vec<u32>, inputs: usize) -> Plan {
        let same_weights =
            |a: &[Term], b: &[Term]| a.len() == b.len() && a.iter().zip(b).all(|(s, t)| s.weight == t.weight);
        let mut shared_weights: Vec<Range<usize>> = Vec::new();
        for r in 0..rows.len() {
            match shared_weights.last_mut() {
                Some(run) if bias[run.start] == bias[r] && same_weights(&rows[run.start], &rows[r]) => run.end = r + 1,
                _ => shared_weights.push(r..r + 1),
            }
        }
        let mut shared_inputs: Vec<Vec<u32>> = Vec::new();
        let mut group_of: HashMap<Vec<u32>, usize> = HashMap::new();
        for (r, row) in rows.iter().enumerate() {
            let reads: Vec<u32> = row.iter().map(|t| t.row).collect();
            let group = *group_of.entry(reads).or_insert_with(|| {
                shared_inputs.push(Vec::new());
                shared_inputs.len() - 1
            });
            shared_inputs[group].push(r as u32);
        }
        let mut starts = Vec::with_capacity(rows.len() + 1);
        starts.push(0);
        let mut terms = Vec::new();
        for row in rows {
            terms.extend(row);
            starts.push(terms.len());
        }
        Plan { starts, terms, shared_weights, shared_inputs, bias, inputs }
    }

    /// A valid (unpadded) stride-1 convolution with a square `kernel`, burn's weight layout
    /// `[c_out, c_in, kernel, kernel]`, on `[c_in, h, w]` rows: `[c_out, h - k + 1, w - k + 1]`.
    pub(crate) fn conv(c_in: usize, [h, w]: [usize; 2], c_out: usize, kernel: usize) -> Plan {
        let (oh, ow) = (h + 1 - kernel, w + 1 - kernel);
        let mut rows = Vec::with_capacity(c_out * oh * ow);
        let mut bias = Vec::with_capacity(c_out * oh * ow);
        for co in 0..c_out {
            for y in 0..oh {
                for x in 0..ow {
                    let mut row = Vec::with_capacity(c_in * kernel * kernel);
                    for ci in 0..c_in {
                        for ky in 0..kernel {
                            for kx in 0..kernel {
                                let weight = ((co * c_in + ci) * kernel + ky) * kernel + kx;
                                let input = (ci * h + y + ky) * w + x + kx;
                                row.push(Term { weight: weight as u32, row: input as u32 });
                            }
                        }
                    }
                    rows.push(row);
                    bias.push(co as u32);
                }
            }
        }
        Plan::from_rows(rows, bias, c_in * h * w)
    }

    /// A dense layer with burn's weight layout `[inputs, outputs]`.
    pub(crate) fn dense(inputs: usize, outputs: usize) -> Plan {
        let rows = (0..outputs)
            .map(|o| (0..inputs).map(|i| Term { weight: (i * outputs + o) as u32, row: i as u32 }).collect())
            .collect();
        Plan::from_rows(rows, (0..outputs as u32).collect(), inputs)
    }

    /// The plan of the input gradient: one row per input row, its terms the output rows it
    /// feeds with the same weights (no bias).
    pub(crate) fn transpose(&self) -> Plan {
        let mut rows = vec![Vec::new(); self.inputs];
        for r in 0..self.rows() {
            for t in self.row(r) {
                rows[t.row as usize].push(Term { weight: t.weight, row: r as u32 });
            }
        }
        Plan::from_rows(rows, vec![0; self.inputs], self.rows())
    }

    /// Number of output rows.
    pub(crate) fn rows(&self) -> usize {
        self.starts.len() - 1
    }

    /// The terms of output row `r`.
    #[inline(always)]
    pub(crate) fn row(&self, r: usize) -> &[Term] {
        &self.terms[self.starts[r]..self.starts[r + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_rows_read_their_window_and_the_transpose_inverts_them() {
        // 1 -> 1 channel, 3x3 input, 2x2 kernel: output (0, 1) reads inputs 1, 2, 4, 5.
        let p = Plan::conv(1, [3, 3], 1, 2);
        assert_eq!(p.rows(), 4);
        let rows: Vec<u32> = p.row(1).iter().map(|t| t.row).collect();
        let weights: Vec<u32> = p.row(1).iter().map(|t| t.weight).collect();
        assert_eq!((rows, weights), (vec![1, 2, 4, 5], vec![0, 1, 2, 3]));
        let t = p.transpose();
        assert_eq!(t.rows(), 9);
        // The centre input feeds all four outputs, through the four kernel taps.
        let centre: Vec<(u32, u32)> = t.row(4).iter().map(|t| (t.weight, t.row)).collect();
        assert_eq!(centre, vec![(3, 0), (2, 1), (1, 2), (0, 3)]);
        assert_eq!(t.row(0), &[Term { weight: 0, row: 0 }]);
    }

    #[test]
    fn a_convolutions_pixels_share_their_channels_weights_and_dense_rows_do_not() {
        // 2 -> 3 channels, 4x4 input: 3x3 pixels per output channel.
        let p = Plan::conv(2, [4, 4], 3, 2);
        assert_eq!(p.shared_weights, vec![0..9, 9..18, 18..27]);
        assert_eq!(Plan::dense(4, 3).shared_weights, vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn a_convolutions_channels_at_one_pixel_share_their_inputs_as_do_dense_rows() {
        // 2 -> 3 channels, 3x3 input: 2x2 pixels per output channel, rows c * 4 + pixel.
        let p = Plan::conv(2, [3, 3], 3, 2);
        assert_eq!(p.shared_inputs, vec![vec![0, 4, 8], vec![1, 5, 9], vec![2, 6, 10], vec![3, 7, 11]]);
        assert_eq!(Plan::dense(4, 3).shared_inputs, vec![vec![0, 1, 2]]);
        // The transposed convolution: input (c, y, x) of every channel c is read by the same
        // output rows; corners by one, the centre by four.
        let t = p.transpose();
        assert_eq!(t.shared_inputs.len(), 9);
        assert!(t.shared_inputs.iter().all(|g| g.len() == 2));
    }

    #[test]
    fn dense_rows_use_burns_input_major_weights() {
        let p = Plan::dense(2, 3);
        assert_eq!(p.row(2), &[Term { weight: 2, row: 0 }, Term { weight: 5, row: 1 }]);
        assert_eq!(p.bias, vec![0, 1, 2]);
    }
}
