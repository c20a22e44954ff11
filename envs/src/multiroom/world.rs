//! The game state and its rules: rooms, doors, the agent, and what each action does.

use super::action::Action;
use super::grid::{Cell, Direction, Grid, Pos};

/// A rectangular room; its border cells are walls (or doors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Room {
    /// Left column (a wall).
    pub x: i32,
    /// Top row (a wall).
    pub y: i32,
    /// Width, walls included.
    pub w: i32,
    /// Height, walls included.
    pub h: i32,
}

impl Room {
    /// The length of the wall on `side`, corners included.
    pub fn side_len(&self, side: Direction) -> i32 {
        match side {
            Direction::Left | Direction::Right => self.h,
            Direction::Up | Direction::Down => self.w,
        }
    }

    /// The cell `offset` cells along the wall on `side` (from the top or left corner).
    pub fn wall_cell(&self, side: Direction, offset: i32) -> Pos {
        match side {
            Direction::Right => Pos { x: self.x + self.w - 1, y: self.y + offset },
            Direction::Left => Pos { x: self.x, y: self.y + offset },
            Direction::Down => Pos { x: self.x + offset, y: self.y + self.h - 1 },
            Direction::Up => Pos { x: self.x + offset, y: self.y },
        }
    }

    /// The `w x h` room whose wall on `side` has the cell `door` at `offset`.
    pub fn attached_at(door: Pos, side: Direction, offset: i32, w: i32, h: i32) -> Room {
        let at = Room { x: 0, y: 0, w, h }.wall_cell(side, offset);
        Room { x: door.x - at.x, y: door.y - at.y, w, h }
    }

    /// True when the room lies inside a `size x size` grid.
    pub fn fits(&self, size: i32) -> bool {
        self.x >= 0 && self.y >= 0 && self.x + self.w <= size && self.y + self.h <= size
    }

    /// True when the two rooms share a cell.
    pub fn overlaps(&self, other: &Room) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }

    /// The wall cells, each once.
    pub fn walls(&self) -> impl Iterator<Item = Pos> + '_ {
        let (x1, y1) = (self.x + self.w - 1, self.y + self.h - 1);
        let rows = (self.x..=x1).flat_map(move |x| [Pos { x, y: self.y }, Pos { x, y: y1 }]);
        let cols = (self.y + 1..y1).flat_map(move |y| [Pos { x: self.x, y }, Pos { x: x1, y }]);
        rows.chain(cols)
    }
}

/// Everything that changes during a level.
#[derive(Debug, Clone)]
pub(crate) struct World {
    /// Walls, doors and the goal.
    pub grid: Grid,
    /// The rooms, first (the agent's) to last (the goal's).
    pub rooms: Vec<Room>,
    /// The doors; door `i` leads from room `i` to room `i + 1`.
    pub doors: Vec<Pos>,
    /// The goal's cell.
    pub goal: Pos,
    /// The agent's cell.
    pub agent: Pos,
    /// The agent's heading.
    pub dir: Direction,
}

impl World {
    /// An empty world on a `size x size` grid (no level yet).
    pub fn new(size: usize) -> Self {
        Self {
            grid: Grid::new(size),
            rooms: Vec::new(),
            doors: Vec::new(),
            goal: Pos::default(),
            agent: Pos::default(),
            dir: Direction::Right,
        }
    }

    /// The cell in front of the agent.
    pub fn front(&self) -> Pos {
        self.agent.step(self.dir)
    }

    /// True when the agent stands on the goal.
    pub fn at_goal(&self) -> bool {
        self.agent == self.goal
    }

    /// Applies `action`; returns the cell whose content changed (a toggled door), if any.
    pub fn act(&mut self, action: Action) -> Option<Pos> {
        match action {
            Action::Left => self.dir = self.dir.turned_left(),
            Action::Right => self.dir = self.dir.turned_right(),
            Action::Forward => {
                let front = self.front();
                if self.grid.get(front).walkable() {
                    self.agent = front;
                }
            }
            Action::Toggle => {
                let front = self.front();
                if let Cell::Door(colour, state) = self.grid.get(front) {
                    self.grid.set(front, Cell::Door(colour, state.toggled()));
                    return Some(front);
                }
            }
            Action::Pickup | Action::Drop | Action::Done => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attached_room_has_the_door_on_its_wall() {
        let door = Pos { x: 7, y: 5 };
        for side in Direction::ALL {
            for offset in 1..4 {
                let room = Room::attached_at(door, side, offset, 5, 5);
                assert_eq!(room.wall_cell(side, offset), door);
                assert!(room.walls().any(|p| p == door));
            }
        }
    }

    #[test]
    fn walls_are_the_border_once_each() {
        let room = Room { x: 2, y: 3, w: 4, h: 6 };
        let mut walls: Vec<_> = room.walls().collect();
        let n = walls.len();
        walls.sort_by_key(|p| (p.x, p.y));
        walls.dedup();
        assert_eq!(walls.len(), n);
        assert_eq!(n, 2 * 4 + 2 * 6 - 4);
        assert!(walls.iter().all(|p| p.x == 2 || p.x == 5 || p.y == 3 || p.y == 8));
    }

    #[test]
    fn neighbours_sharing_a_wall_overlap_and_separate_ones_do_not() {
        let a = Room { x: 0, y: 0, w: 4, h: 4 };
        assert!(a.overlaps(&Room { x: 3, y: 1, w: 4, h: 4 }));
        assert!(!a.overlaps(&Room { x: 4, y: 0, w: 4, h: 4 }));
        assert!(!a.overlaps(&Room { x: 0, y: 4, w: 4, h: 4 }));
    }
}
