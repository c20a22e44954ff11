//! The arms of the paper's comparison by name: `method = "ibac-sni"` on any preset.
//!
//! Each method sets the agent's regularizers and SNI to the paper's settings for the run's env
//! (docs/method.md, "The arms"), replacing whatever regularizers the preset had; every value
//! stays overridable afterwards (`--set method=dropout --set dropout=0.1`).
//!
//! | method | regularizers | SNI lambda |
//! |---|---|---|
//! | `baseline` | none | off |
//! | `l2` | L2 1e-4 on weights | off |
//! | `dropout` | dropout 0.2 on the hidden layer | off |
//! | `batchnorm` | batch norm in the encoder | off |
//! | `ibac` | information bottleneck, beta per env | off |
//! | `ibac-sni` | information bottleneck, beta per env | 0.5 |
//! | `dropout-sni` | dropout 0.2 | 0.5 |
//!
//! The bottleneck's beta is 1e-6 per nat with `rho_shift` 0 on MultiRoom, and 1e-4 per bit
//! (1e-4 / ln 2 per nat) with `rho_shift` 5 on CoinRun. The official CoinRun code also keeps
//! L2 1e-4 in every run; here an arm holds only its own regularizer, and `--set l2=1e-4` adds
//! the weight decay to any arm.

use std::fmt;

use heldout_agents::{BottleneckConfig, RegularizerConfig};
use serde::{Deserialize, Serialize};

/// An arm of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// No regularizer, no SNI.
    Baseline,
    /// L2 weight decay 1e-4.
    L2,
    /// Dropout 0.2 on the hidden layer, the noisy policy collects and trains.
    Dropout,
    /// Batch norm in the encoder.
    Batchnorm,
    /// The information bottleneck (IBAC).
    Ibac,
    /// The information bottleneck with Selective Noise Injection (lambda 0.5).
    IbacSni,
    /// Dropout with Selective Noise Injection (lambda 0.5).
    DropoutSni,
}

/// L2 weight decay of the `l2` arm.
const L2: f64 = 1e-4;
/// Dropout rate of the dropout arms.
const DROPOUT: f64 = 0.2;
/// SNI's lambda in the -SNI arms (the paper's best "in most cases").
const SNI_LAMBDA: f64 = 0.5;

impl Method {
    /// Every method, in the order tables list them.
    pub const ALL: [Method; 7] = [
        Method::Baseline,
        Method::L2,
        Method::Dropout,
        Method::Batchnorm,
        Method::Ibac,
        Method::IbacSni,
        Method::DropoutSni,
    ];

    /// The name configs and tables use (`ibac-sni`).
    pub fn name(self) -> &'static str {
        match self {
            Method::Baseline => "baseline",
            Method::L2 => "l2",
            Method::Dropout => "dropout",
            Method::Batchnorm => "batchnorm",
            Method::Ibac => "ibac",
            Method::IbacSni => "ibac-sni",
            Method::DropoutSni => "dropout-sni",
        }
    }

    /// The method called `name`, if any.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the method uses Selective Noise Injection.
    pub fn uses_sni(self) -> bool {
        matches!(self, Method::IbacSni | Method::DropoutSni)
    }

    /// The regularizers and SNI lambda of this arm on the env called `env` (`"multiroom"` or
    /// `"coinrun"`).
    pub fn settings(self, env: &str) -> (RegularizerConfig, Option<f64>) {
        let bottleneck = || {
            Some(match env {
                "coinrun" => BottleneckConfig { beta: 1e-4 / std::f64::consts::LN_2, rho_shift: 5.0 },
                _ => BottleneckConfig { beta: 1e-6, rho_shift: 0.0 },
            })
        };
        let none = RegularizerConfig::default();
        let regularizers = match self {
            Method::Baseline => none,
            Method::L2 => RegularizerConfig { l2: L2, ..none },
            Method::Dropout | Method::DropoutSni => RegularizerConfig { dropout: DROPOUT, ..none },
            Method::Batchnorm => RegularizerConfig { batch_norm: true, ..none },
            Method::Ibac | Method::IbacSni => RegularizerConfig { bottleneck: bottleneck(), ..none },
        };
        (regularizers, self.uses_sni().then_some(SNI_LAMBDA))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for m in Method::ALL {
            assert_eq!(Method::from_name(m.name()), Some(m));
            let toml = toml::Value::try_from(m).unwrap();
            assert_eq!(toml.as_str(), Some(m.name()));
        }
        assert_eq!(Method::from_name("ibac_sni"), None);
    }

    #[test]
    fn arms_hold_only_their_own_regularizer() {
        let (r, sni) = Method::Baseline.settings("multiroom");
        assert_eq!((r, sni), (RegularizerConfig::default(), None));
        let (r, sni) = Method::DropoutSni.settings("coinrun");
        assert_eq!((r.dropout, r.l2, r.bottleneck, sni), (0.2, 0.0, None, Some(0.5)));
        let (r, _) = Method::Ibac.settings("multiroom");
        assert_eq!(r.bottleneck, Some(BottleneckConfig { beta: 1e-6, rho_shift: 0.0 }));
        let (r, _) = Method::IbacSni.settings("coinrun");
        let b = r.bottleneck.unwrap();
        assert!((b.beta * std::f64::consts::LN_2 - 1e-4).abs() < 1e-15 && b.rho_shift == 5.0);
        assert!(Method::ALL.iter().filter(|m| m.uses_sni()).count() == 2);
    }
}
