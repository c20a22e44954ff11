//! Text pictures of the grid, one character per cell.

use super::grid::{Cell, DoorState, Pos};
use super::world::World;

/// One line per row: `#` wall, `.` empty, `*` goal, a closed door as its colour's capital
/// (`R`ed, `G`reen, `B`lue, `P`urple, `Y`ellow, gr`E`y), an open door in lowercase, and the agent
/// as `>`, `v`, `<` or `^` by heading.
pub(crate) fn render(world: &World) -> String {
    let size = world.grid.size();
    let mut text = String::with_capacity((size * (size + 1)) as usize);
    for y in 0..size {
        for x in 0..size {
            let p = Pos { x, y };
            text.push(if p == world.agent { world.dir.arrow() } else { cell_char(world.grid.get(p)) });
        }
        text.push('\n');
    }
    text
}

fn cell_char(cell: Cell) -> char {
    match cell {
        Cell::Empty => '.',
        Cell::Wall => '#',
        Cell::Goal => '*',
        Cell::Door(colour, DoorState::Closed) => colour.letter(),
        Cell::Door(colour, DoorState::Open) => colour.letter().to_ascii_lowercase(),
    }
}
