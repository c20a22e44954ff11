//! Conversions between the envs' types and the agents' (the agents crate does not know the
//! envs): observation spaces as observation formats, object boxes as labelled boxes.

use anyhow::{Result, bail};
use heldout_agents::ObsFormat;
use heldout_agents::vision::{BoxXyxy, LabelledBox};
use heldout_envs::{ObjectBox, ObjectClass, ObsSpace};

/// Object classes the agents' vision models tell apart: every [`ObjectClass`].
pub const NUM_CLASSES: usize = ObjectClass::ALL.len();

/// How the agent reads observations of `space`: height, width and channels, scaled by 1/255
/// when they are RGB bytes (codes such as MultiRoom's grid are read as they are).
pub fn obs_format(space: &ObsSpace) -> Result<ObsFormat> {
    let [height, width, channels] = space.shape[..] else {
        bail!("observations of shape {:?} are not images (height, width, channels)", space.shape);
    };
    let scale = if space.high == u8::MAX { 1.0 / 255.0 } else { 1.0 };
    Ok(ObsFormat { height, width, channels, scale })
}

/// The boxes of one observation, with [`ObjectClass::index`] as the class.
pub fn labelled(objects: &[ObjectBox]) -> Vec<LabelledBox> {
    objects
        .iter()
        .map(|ob| LabelledBox { class: ob.class.index(), bbox: BoxXyxy::new(ob.x1, ob.y1, ob.x2, ob.y2) })
        .collect()
}

/// The boxes of each observation of a batch.
pub fn labelled_batch(objects: &[Vec<ObjectBox>]) -> Vec<Vec<LabelledBox>> {
    objects.iter().map(|list| labelled(list)).collect()
}
