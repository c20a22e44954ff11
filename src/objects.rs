//! The envs' object boxes as the agents' labelled boxes (the agents crate does not know the envs).

use heldout_agents::vision::{BoxXyxy, LabelledBox};
use heldout_envs::{ObjectBox, ObjectClass};

/// Object classes the agents' vision models tell apart: every [`ObjectClass`].
pub const NUM_CLASSES: usize = ObjectClass::ALL.len();

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
