//! Every environment by name, behind one enum, so a run config can pick one.

use serde::{Deserialize, Serialize};

use crate::coinrun::{CoinRun, CoinRunOptions};
use crate::multiroom::{MultiRoom, MultiRoomOptions};
use crate::{ActionSpace, Env, EnvError, Info, ObsSpace, RgbFrame, Transition};

/// Which environment to build, with its options (TOML: `kind = "multiroom"` plus its fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EnvConfig {
    /// The MultiRoom-like gridworld.
    #[serde(rename = "multiroom")]
    MultiRoom(MultiRoomOptions),
    /// The CoinRun-like platformer.
    #[serde(rename = "coinrun")]
    CoinRun(CoinRunOptions),
}

impl EnvConfig {
    /// The environment's name as written in configs.
    pub fn name(&self) -> &'static str {
        match self {
            EnvConfig::MultiRoom(_) => "multiroom",
            EnvConfig::CoinRun(_) => "coinrun",
        }
    }

    /// Builds one environment.
    pub fn build(&self) -> Result<AnyEnv, EnvError> {
        Ok(match self {
            EnvConfig::MultiRoom(o) => AnyEnv::MultiRoom(Box::new(MultiRoom::new(o.clone())?)),
            EnvConfig::CoinRun(o) => AnyEnv::CoinRun(Box::new(CoinRun::new(o.clone())?)),
        })
    }

    /// Builds `n` environments.
    pub fn build_many(&self, n: usize) -> Result<Vec<AnyEnv>, EnvError> {
        (0..n).map(|_| self.build()).collect()
    }
}

/// Any of heldout's environments (static dispatch).
pub enum AnyEnv {
    /// The MultiRoom-like gridworld.
    MultiRoom(Box<MultiRoom>),
    /// The CoinRun-like platformer.
    CoinRun(Box<CoinRun>),
}

impl AnyEnv {
    /// Action indices that complete the current episode from the current state, from the env's
    /// scripted player ([`crate::coinrun::planner`], [`crate::multiroom::planner`]); `None`
    /// outside an episode or when the player finds no way within the time limit.
    pub fn plan(&self) -> Option<Vec<usize>> {
        match self {
            AnyEnv::MultiRoom(e) => Some(crate::multiroom::planner::plan(e)?.into_iter().map(|a| a as usize).collect()),
            AnyEnv::CoinRun(e) => crate::coinrun::planner::plan(e),
        }
    }

    fn inner(&self) -> &dyn Env {
        match self {
            AnyEnv::MultiRoom(e) => e.as_ref(),
            AnyEnv::CoinRun(e) => e.as_ref(),
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Env {
        match self {
            AnyEnv::MultiRoom(e) => e.as_mut(),
            AnyEnv::CoinRun(e) => e.as_mut(),
        }
    }
}

impl Env for AnyEnv {
    fn observation_space(&self) -> ObsSpace {
        self.inner().observation_space()
    }

    fn action_space(&self) -> ActionSpace {
        self.inner().action_space()
    }

    fn reset_into(&mut self, level_seed: u64, obs: &mut [u8]) -> Result<Info, EnvError> {
        self.inner_mut().reset_into(level_seed, obs)
    }

    fn step_into(&mut self, action: usize, obs: &mut [u8]) -> Result<Transition, EnvError> {
        self.inner_mut().step_into(action, obs)
    }

    fn render(&self) -> RgbFrame {
        self.inner().render()
    }

    fn render_text(&self) -> String {
        self.inner().render_text()
    }
}
