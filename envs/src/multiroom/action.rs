//! MiniGrid's seven actions.

/// An action of the agent, numbered as in MiniGrid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Action {
    /// Turn a quarter turn counter-clockwise.
    Left = 0,
    /// Turn a quarter turn clockwise.
    Right = 1,
    /// Step onto the cell in front if it is empty, an open door or the goal.
    Forward = 2,
    /// Pick up an object (MultiRoom has none: no effect).
    Pickup = 3,
    /// Drop the carried object (MultiRoom has none: no effect).
    Drop = 4,
    /// Open the closed door in front, or close the open one.
    Toggle = 5,
    /// Declare the task done (no effect; the episode ends only at the goal or the time limit).
    Done = 6,
}

impl Action {
    /// Every action, by index.
    pub const ALL: [Action; 7] =
        [Action::Left, Action::Right, Action::Forward, Action::Pickup, Action::Drop, Action::Toggle, Action::Done];

    /// The action with index `index`, if any.
    pub fn from_index(index: usize) -> Option<Action> {
        Action::ALL.get(index).copied()
    }

    /// MiniGrid's name of the action.
    pub fn name(self) -> &'static str {
        match self {
            Action::Left => "left",
            Action::Right => "right",
            Action::Forward => "forward",
            Action::Pickup => "pickup",
            Action::Drop => "drop",
            Action::Toggle => "toggle",
            Action::Done => "done",
        }
    }
}
