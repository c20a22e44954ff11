//! Saving and loading agents.
//!
//! A checkpoint is a directory of three files, each written atomically (temporary file, then
//! rename), the header last:
//! - [`MODEL_FILE`]: the network's weights and batch-norm statistics (burnpack);
//! - [`OPTIMIZER_FILE`]: Adam's state (burnpack for burn's generic learner; the fused
//!   learner's own little-endian layout, which starts with `heldout-fused-adam`);
//! - [`HEADER_FILE`]: JSON with the format version, the configuration, the observation format,
//!   the action count, the seed, the number of updates done and the length and FNV-1a hash of
//!   the two other files, so a truncated or altered file is caught before it is parsed.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::agent::Agent;
use crate::config::AgentConfig;
use crate::error::AgentError;
use crate::fused::Learner;
use crate::obs::ObsFormat;

/// Version of the checkpoint layout this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The header file's name.
pub const HEADER_FILE: &str = "agent.json";
/// The network's file name.
pub const MODEL_FILE: &str = "model.bpk";
/// The optimizer's file name.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";

/// The header's content.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format_version: u32,
    config: AgentConfig,
    obs: ObsFormat,
    num_actions: usize,
    seed: u64,
    updates: u64,
    model: Digest,
    optimizer: Digest,
}

/// Length and hash of a file.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Digest {
    bytes: usize,
    fnv1a64: String,
}

impl Digest {
    fn of(data: &[u8]) -> Digest {
        let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
        Digest { bytes: data.len(), fnv1a64: format!("{hash:016x}") }
    }
}

impl Agent {
    /// Writes the agent to the directory `dir` (created if missing).
    pub fn save(&self, dir: &Path) -> Result<(), AgentError> {
        fs::create_dir_all(dir).map_err(|e| AgentError::checkpoint(dir, format!("cannot create directory: {e}")))?;
        let model_path = dir.join(MODEL_FILE);
        let model = self.model().into_record().into_bytes().map_err(|e| AgentError::checkpoint(&model_path, e))?;
        let optim_path = dir.join(OPTIMIZER_FILE);
        let optim = match &self.fused {
            Some(fused) => fused.optimizer_bytes(),
            None => self.optim.into_bytes().map_err(|e| AgentError::checkpoint(&optim_path, e))?.to_vec(),
        };
        let header = Header {
            format_version: FORMAT_VERSION,
            config: self.config.clone(),
            obs: self.obs,
            num_actions: self.num_actions,
            seed: self.seed,
            updates: self.updates,
            model: Digest::of(&model),
            optimizer: Digest::of(&optim),
        };
        let header_json = serde_json::to_vec_pretty(&header).expect("the header serializes");
        write_atomic(&model_path, &model)?;
        write_atomic(&optim_path, &optim)?;
        write_atomic(&dir.join(HEADER_FILE), &header_json)
    }

    /// Reads an agent written by [`Agent::save`]. A missing, corrupt or mismatched file is an
    /// [`AgentError::Checkpoint`] naming it.
    pub fn load(dir: &Path) -> Result<Agent, AgentError> {
        let header_path = dir.join(HEADER_FILE);
        let header: Header = serde_json::from_slice(&read(&header_path)?)
            .map_err(|e| AgentError::checkpoint(&header_path, format!("not a valid agent header: {e}")))?;
        if header.format_version != FORMAT_VERSION {
            let reason = format!("format version {} (this build reads {FORMAT_VERSION})", header.format_version);
            return Err(AgentError::checkpoint(&header_path, reason));
        }
        let mut agent = Agent::build(&header.config, header.obs, header.num_actions, header.seed)
            .map_err(|e| AgentError::checkpoint(&header_path, e))?;

        let model_path = dir.join(MODEL_FILE);
        let record = ModuleRecord::from_bytes(read_checked(&model_path, &header.model)?)
            .map_err(|e| AgentError::checkpoint(&model_path, e))?;
        agent.model = agent
            .model
            .try_load_record(record)
            .map_err(|e| AgentError::checkpoint(&model_path, format!("does not fit the configured network: {e}")))?;

        let optim_path = dir.join(OPTIMIZER_FILE);
        let optim = read_checked(&optim_path, &header.optimizer)?;
        let fused_state = match &mut agent.fused {
            Some(fused) => {
                fused.reload(&agent.model);
                fused.load_optimizer(&optim[..]).map_err(|e| AgentError::checkpoint(&optim_path, e))?
            }
            None => false,
        };
        if !fused_state {
            // burn's optimizer record: the generic learner trained this agent and goes on
            // training it (a network the fused learner does not cover, `learner = "generic"`,
            // or a checkpoint of an earlier build, which the fused learner would have covered).
            if agent.fused.take().is_some() {
                agent.config.learner = Learner::Generic;
            }
            agent.optim = Agent::optimizer(&header.config)
                .from_bytes(optim)
                .map_err(|e| AgentError::checkpoint(&optim_path, e))?;
        }
        agent.updates = header.updates;
        Ok(agent)
    }
}

/// Reads a whole file.
fn read(path: &Path) -> Result<Vec<u8>, AgentError> {
    fs::read(path).map_err(|e| AgentError::checkpoint(path, format!("cannot read: {e}")))
}

/// Reads a file and checks it against its digest in the header.
fn read_checked(path: &Path, digest: &Digest) -> Result<Bytes, AgentError> {
    let data = read(path)?;
    let found = Digest::of(&data);
    if found != *digest {
        let reason = format!(
            "corrupt: {} bytes with hash {}, the header says {} bytes with hash {}",
            found.bytes, found.fnv1a64, digest.bytes, digest.fnv1a64
        );
        return Err(AgentError::checkpoint(path, reason));
    }
    Ok(Bytes::from_bytes_vec(data))
}

/// Writes `data` to `path` through a temporary file in the same directory and a rename.
fn write_atomic(path: &Path, data: &[u8]) -> Result<(), AgentError> {
    let name = path.file_name().expect("a file name").to_string_lossy();
    let tmp: PathBuf = path.with_file_name(format!(".{name}.tmp"));
    let fail = |e: std::io::Error| AgentError::checkpoint(path, format!("cannot write: {e}"));
    fs::write(&tmp, data).map_err(fail)?;
    fs::rename(&tmp, path).map_err(fail)
}
