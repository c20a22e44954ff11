//! Screen-space boxes of the objects an environment shows, for detection-style vision models.

/// The class of a visible object, shared by every environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectClass {
    /// The player.
    Agent,
    /// The goal of a level (CoinRun's coin, MultiRoom's goal square).
    Goal,
    /// A spinning saw blade.
    Saw,
    /// A walking monster.
    Monster,
    /// A lava tile or pool.
    Lava,
    /// A door between rooms.
    Door,
    /// A crate.
    Crate,
}

impl ObjectClass {
    /// Every class, in index order.
    pub const ALL: [ObjectClass; 7] = [
        ObjectClass::Agent,
        ObjectClass::Goal,
        ObjectClass::Saw,
        ObjectClass::Monster,
        ObjectClass::Lava,
        ObjectClass::Door,
        ObjectClass::Crate,
    ];

    /// A dense index in `0..ObjectClass::ALL.len()`, for class scores.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lowercase name of the class.
    pub fn name(self) -> &'static str {
        match self {
            ObjectClass::Agent => "agent",
            ObjectClass::Goal => "goal",
            ObjectClass::Saw => "saw",
            ObjectClass::Monster => "monster",
            ObjectClass::Lava => "lava",
            ObjectClass::Door => "door",
            ObjectClass::Crate => "crate",
        }
    }
}

/// An axis-aligned box in observation pixels: `x1 <= x2`, `y1 <= y2`, origin top-left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectBox {
    /// What the box holds.
    pub class: ObjectClass,
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge.
    pub x2: f32,
    /// Bottom edge.
    pub y2: f32,
}
