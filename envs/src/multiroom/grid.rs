//! Cells, object codes, colours and headings of the MultiRoom grid, numbered as MiniGrid numbers
//! them so that observations read the same as MiniGrid's.

/// Object codes of the grid observations: MiniGrid's `OBJECT_TO_IDX`, restricted to the objects
/// MultiRoom shows (MiniGrid also has floor 3, key 5, ball 6, box 7 and lava 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Object {
    /// A cell hidden from an egocentric view (behind a wall or a closed door).
    Unseen = 0,
    /// An empty cell (room floor, or the void outside the rooms).
    Empty = 1,
    /// A wall.
    Wall = 2,
    /// A door between two rooms.
    Door = 4,
    /// The goal square.
    Goal = 8,
    /// The agent (full-grid observations only, as MiniGrid's `FullyObsWrapper` writes it).
    Agent = 10,
}

/// Colours: MiniGrid's `COLOR_TO_IDX`, with its RGB values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Colour {
    /// Red (the agent).
    Red = 0,
    /// Green (the goal).
    Green = 1,
    /// Blue.
    Blue = 2,
    /// Purple.
    Purple = 3,
    /// Yellow.
    Yellow = 4,
    /// Grey (walls).
    Grey = 5,
}

impl Colour {
    /// Every colour, in code order.
    pub const ALL: [Colour; 6] =
        [Colour::Red, Colour::Green, Colour::Blue, Colour::Purple, Colour::Yellow, Colour::Grey];

    /// The colour's RGB value in pictures (MiniGrid's palette).
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Colour::Red => [255, 0, 0],
            Colour::Green => [0, 255, 0],
            Colour::Blue => [0, 0, 255],
            Colour::Purple => [112, 39, 195],
            Colour::Yellow => [255, 255, 0],
            Colour::Grey => [100, 100, 100],
        }
    }

    /// The letter of a closed door of this colour in text pictures (an open door is lowercase).
    pub fn letter(self) -> char {
        match self {
            Colour::Red => 'R',
            Colour::Green => 'G',
            Colour::Blue => 'B',
            Colour::Purple => 'P',
            Colour::Yellow => 'Y',
            Colour::Grey => 'E',
        }
    }
}

/// Door states: MiniGrid's codes (it also has locked = 2; MultiRoom's doors are never locked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DoorState {
    /// Open: the agent can walk through and see through it.
    Open = 0,
    /// Closed: blocks moving and seeing; `toggle` opens it.
    Closed = 1,
}

impl DoorState {
    /// The state after a `toggle`.
    pub fn toggled(self) -> DoorState {
        match self {
            DoorState::Open => DoorState::Closed,
            DoorState::Closed => DoorState::Open,
        }
    }
}

/// The agent's heading, with MiniGrid's codes; `y` grows downwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Direction {
    /// Towards +x.
    Right = 0,
    /// Towards +y.
    Down = 1,
    /// Towards -x.
    Left = 2,
    /// Towards -y.
    Up = 3,
}

impl Direction {
    /// Every heading, in code order (each one a quarter turn clockwise from the last).
    pub const ALL: [Direction; 4] = [Direction::Right, Direction::Down, Direction::Left, Direction::Up];

    /// The heading after a quarter turn counter-clockwise.
    pub fn turned_left(self) -> Direction {
        Direction::ALL[(self as usize + 3) % 4]
    }

    /// The heading after a quarter turn clockwise.
    pub fn turned_right(self) -> Direction {
        Direction::ALL[(self as usize + 1) % 4]
    }

    /// The opposite heading.
    pub fn opposite(self) -> Direction {
        Direction::ALL[(self as usize + 2) % 4]
    }

    /// The unit step `(dx, dy)` of this heading.
    pub fn delta(self) -> (i32, i32) {
        match self {
            Direction::Right => (1, 0),
            Direction::Down => (0, 1),
            Direction::Left => (-1, 0),
            Direction::Up => (0, -1),
        }
    }

    /// The agent's character in text pictures.
    pub fn arrow(self) -> char {
        match self {
            Direction::Right => '>',
            Direction::Down => 'v',
            Direction::Left => '<',
            Direction::Up => '^',
        }
    }
}

/// A cell position; `(0, 0)` is the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Pos {
    /// Column.
    pub x: i32,
    /// Row.
    pub y: i32,
}

impl Pos {
    /// The position one step along `dir`.
    pub fn step(self, dir: Direction) -> Pos {
        let (dx, dy) = dir.delta();
        Pos { x: self.x + dx, y: self.y + dy }
    }
}

/// What a cell holds (the agent is kept apart, as in MiniGrid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Cell {
    /// Nothing.
    Empty,
    /// A wall.
    Wall,
    /// A door of some colour.
    Door(Colour, DoorState),
    /// The goal square.
    Goal,
}

impl Cell {
    /// The `(object, colour, state)` code triple of the cell.
    pub fn encode(self) -> [u8; 3] {
        match self {
            Cell::Empty => [Object::Empty as u8, 0, 0],
            Cell::Wall => [Object::Wall as u8, Colour::Grey as u8, 0],
            Cell::Door(colour, state) => [Object::Door as u8, colour as u8, state as u8],
            Cell::Goal => [Object::Goal as u8, Colour::Green as u8, 0],
        }
    }

    /// True when the agent can step onto the cell.
    pub fn walkable(self) -> bool {
        matches!(self, Cell::Empty | Cell::Goal | Cell::Door(_, DoorState::Open))
    }

    /// True when the agent can see past the cell.
    pub fn transparent(self) -> bool {
        self.walkable()
    }
}

/// A square grid of cells; positions outside it read as walls.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    size: i32,
    cells: Vec<Cell>,
}

impl Grid {
    /// An empty `size x size` grid.
    pub fn new(size: usize) -> Self {
        Self { size: size as i32, cells: vec![Cell::Empty; size * size] }
    }

    /// The side length.
    pub fn size(&self) -> i32 {
        self.size
    }

    /// True when `p` is on the grid.
    pub fn contains(&self, p: Pos) -> bool {
        (0..self.size).contains(&p.x) && (0..self.size).contains(&p.y)
    }

    /// The cell at `p` (a wall off the grid).
    pub fn get(&self, p: Pos) -> Cell {
        if self.contains(p) { self.cells[(p.y * self.size + p.x) as usize] } else { Cell::Wall }
    }

    /// Sets the cell at `p`, which must be on the grid.
    pub fn set(&mut self, p: Pos, cell: Cell) {
        debug_assert!(self.contains(p), "{p:?} is off the grid");
        self.cells[(p.y * self.size + p.x) as usize] = cell;
    }

    /// Empties every cell.
    pub fn clear(&mut self) {
        self.cells.fill(Cell::Empty);
    }

    /// Every cell, row after row.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }
}
