//! Corrupt, missing and mismatched checkpoints are clear errors naming the file.

mod common;

use std::fs;
use std::path::Path;

use common::{bandit_config, bandit_obs, weights};
use heldout_agents::checkpoint::{HEADER_FILE, MODEL_FILE, OPTIMIZER_FILE};
use heldout_agents::{Agent, AgentError};

fn saved() -> (tempfile::TempDir, Agent) {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::new(&bandit_config(), bandit_obs(), 3, 8).unwrap();
    agent.save(dir.path()).unwrap();
    (dir, agent)
}

/// The error of loading `dir`, which must be a checkpoint error about `file`.
fn load_error(dir: &Path, file: &str) -> String {
    match Agent::load(dir) {
        Err(e @ AgentError::Checkpoint { .. }) => {
            let AgentError::Checkpoint { path, .. } = &e else { unreachable!() };
            assert_eq!(path.file_name().unwrap(), file, "{e}");
            e.to_string()
        }
        other => panic!("expected a checkpoint error about {file}, got {other:?}"),
    }
}

/// Replaces `from` (which must be there) by `to` in the saved header.
fn edit_header(dir: &Path, from: &str, to: &str) {
    let path = dir.join(HEADER_FILE);
    let header = fs::read_to_string(&path).unwrap();
    assert!(header.contains(from), "{header}");
    fs::write(&path, header.replace(from, to)).unwrap();
}

#[test]
fn a_saved_agent_loads_with_equal_weights_and_leaves_no_temporary_files() {
    let (dir, agent) = saved();
    let loaded = Agent::load(dir.path()).unwrap();
    assert_eq!(weights(&loaded), weights(&agent));
    assert_eq!((loaded.seed(), loaded.num_actions(), loaded.obs_format()), (8, 3, bandit_obs()));
    let mut names: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, [HEADER_FILE, MODEL_FILE, OPTIMIZER_FILE]);
    // Saving again over an existing checkpoint works.
    loaded.save(dir.path()).unwrap();
}

#[test]
fn missing_files_are_named() {
    for file in [HEADER_FILE, MODEL_FILE, OPTIMIZER_FILE] {
        let (dir, _) = saved();
        fs::remove_file(dir.path().join(file)).unwrap();
        assert!(load_error(dir.path(), file).contains("cannot read"));
    }
}

#[test]
fn truncated_or_altered_weights_are_caught_by_the_digest() {
    let (dir, _) = saved();
    let path = dir.path().join(MODEL_FILE);
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&path, &bytes).unwrap();
    assert!(load_error(dir.path(), MODEL_FILE).contains("corrupt"));
    fs::write(&path, &bytes[..10]).unwrap();
    assert!(load_error(dir.path(), MODEL_FILE).contains("corrupt"));
}

#[test]
fn a_garbled_header_or_unknown_version_is_refused() {
    let (dir, _) = saved();
    let path = dir.path().join(HEADER_FILE);
    let header = fs::read_to_string(&path).unwrap();
    fs::write(&path, &header[..header.len() / 2]).unwrap();
    assert!(load_error(dir.path(), HEADER_FILE).contains("not a valid agent header"));
    fs::write(&path, &header).unwrap();
    edit_header(dir.path(), "\"format_version\": 1", "\"format_version\": 99");
    assert!(load_error(dir.path(), HEADER_FILE).contains("format version 99"));
}

#[test]
fn weights_of_another_network_do_not_fit() {
    // Same bytes, but the header now describes a wider hidden layer.
    let (dir, _) = saved();
    edit_header(dir.path(), "\"size\": 32", "\"size\": 33");
    assert!(load_error(dir.path(), MODEL_FILE).contains("does not fit"));
}

#[test]
fn a_header_with_an_invalid_config_is_refused() {
    let (dir, _) = saved();
    edit_header(dir.path(), "\"clip\": 0.2", "\"clip\": -1.0");
    assert!(load_error(dir.path(), HEADER_FILE).contains("ppo.clip"));
}
