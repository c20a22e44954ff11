//! Summary statistics with 95% intervals.

/// A mean with the half-width of its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Half-width of the 95% interval (normal approximation, 1.96 standard errors).
    pub ci95: f64,
}

/// An estimate of nothing (NaN): what a result file written before a metric existed reads as.
impl Default for Estimate {
    fn default() -> Self {
        Estimate { mean: f64::NAN, ci95: f64::NAN }
    }
}

impl Estimate {
    /// Mean and 95% interval of `values` (interval 0 for fewer than two values).
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len() as f64;
        if values.is_empty() {
            return Estimate { mean: f64::NAN, ci95: f64::NAN };
        }
        let mean = values.iter().sum::<f64>() / n;
        Estimate { mean, ci95: 1.96 * standard_error(values) }
    }
}

/// Standard error of the mean (sample standard deviation / sqrt(n)); 0 for fewer than two values.
pub fn standard_error(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (var / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_matches_hand_computation() {
        // mean 2.5, sample variance 5/3, standard error sqrt(5/12)
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        assert!((e.ci95 - 1.96 * (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(Estimate::of(&[3.0]).ci95, 0.0);
        assert!(Estimate::of(&[]).mean.is_nan());
    }
}
