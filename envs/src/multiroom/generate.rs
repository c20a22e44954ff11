//! Level generation: a random walk of rooms, each attached to the last through a door on a
//! shared wall, as MiniGrid's `MultiRoomEnv._gen_grid` does.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};

use super::grid::{Cell, Colour, Direction, DoorState, Pos};
use super::options::MultiRoomOptions;
use super::world::{Room, World};
use crate::EnvError;

/// Tries to attach each next room before a walk stops (MiniGrid's 8).
const TRIES_PER_ROOM: usize = 8;
/// Walks tried before a level is declared impossible; options that pass validation need a few.
const MAX_WALKS: usize = 10_000;

/// Builds the level `level_seed` into `world`, reusing its buffers (no allocation once they
/// have grown to the largest level).
///
/// The room count is drawn uniformly from `min_rooms..=max_rooms`; walks are drawn from the same
/// generator until one places that many rooms. Each walk puts the first room anywhere it fits,
/// then repeatedly picks a wall of the last room other than its entry wall, a door cell on it
/// (not a corner) and the next room's size and offset along the door, keeping the room if it
/// lies on the grid and shares no cell with any earlier room but its parent. Door colours are
/// uniform among the colours other than the previous door's. The agent stands on a uniform
/// interior cell of the first room with a uniform heading; the goal on a uniform interior cell
/// of the last room, not the agent's.
///
/// Differences from MiniGrid, all deliberate: the first room goes anywhere it fits and may be
/// left through any wall (MiniGrid keeps its corner in `0..width - 2`, never uses the bottom row
/// and never exits the first room through its left wall); rooms other than the parent may not
/// share a cell on any side (MiniGrid's overlap test lets them touch on one side only); and the
/// random numbers come from a different generator, so seeds give other levels than MiniGrid's.
pub(crate) fn generate(world: &mut World, options: &MultiRoomOptions, level_seed: u64) -> Result<(), EnvError> {
    // A named algorithm, so levels stay the same across versions of `rand` (StdRng may change).
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(level_seed);
    let count = rng.random_range(options.min_rooms..=options.max_rooms);
    let mut walks = 1;
    while !walk(&mut rng, world, options, count) {
        if walks == MAX_WALKS {
            return Err(EnvError::InvalidOptions(format!(
                "multiroom: no layout of {count} rooms found in {MAX_WALKS} walks for level {level_seed}; \
                 enlarge grid_size or lower max_rooms"
            )));
        }
        walks += 1;
    }
    draw(&mut rng, world);
    Ok(())
}

/// One random walk of up to `count` rooms into `world.rooms` and `world.doors`; true when all
/// `count` were placed.
fn walk(rng: &mut impl Rng, world: &mut World, options: &MultiRoomOptions, count: usize) -> bool {
    let size = options.grid_size as i32;
    let (rooms, doors) = (&mut world.rooms, &mut world.doors);
    rooms.clear();
    doors.clear();
    let (w, h) = room_size(rng, options);
    rooms.push(Room { x: rng.random_range(0..=size - w), y: rng.random_range(0..=size - h), w, h });
    let mut entry = None;
    while rooms.len() < count {
        let (parent, elders) = rooms.split_last().expect("the first room is placed");
        let attached = (0..TRIES_PER_ROOM).find_map(|_| {
            let exit = pick_other(rng, &Direction::ALL, entry);
            let door = parent.wall_cell(exit, rng.random_range(1..parent.side_len(exit) - 1));
            let (w, h) = room_size(rng, options);
            let side = exit.opposite();
            let offset = rng.random_range(1..Room { x: 0, y: 0, w, h }.side_len(side) - 1);
            let room = Room::attached_at(door, side, offset, w, h);
            (room.fits(size) && !elders.iter().any(|r| r.overlaps(&room))).then_some((room, door, side))
        });
        let Some((room, door, side)) = attached else { return false };
        rooms.push(room);
        doors.push(door);
        entry = Some(side);
    }
    true
}

/// Draws the walls and doors of the placed rooms, then places the agent and the goal.
fn draw(rng: &mut impl Rng, world: &mut World) {
    let grid = &mut world.grid;
    grid.clear();
    for room in &world.rooms {
        for p in room.walls() {
            grid.set(p, Cell::Wall);
        }
    }
    let mut colour = None;
    for &door in &world.doors {
        let c = pick_other(rng, &Colour::ALL, colour);
        grid.set(door, Cell::Door(c, DoorState::Closed));
        colour = Some(c);
    }
    world.agent = interior_cell(rng, &world.rooms[0]);
    world.dir = Direction::ALL[rng.random_range(0..Direction::ALL.len())];
    let last = world.rooms[world.rooms.len() - 1];
    world.goal = loop {
        let p = interior_cell(rng, &last);
        if p != world.agent {
            break p;
        }
    };
    grid.set(world.goal, Cell::Goal);
}

/// A room's width and height, each uniform in the options' range.
fn room_size(rng: &mut impl Rng, options: &MultiRoomOptions) -> (i32, i32) {
    let side = options.min_room_size as i32..=options.max_room_size as i32;
    (rng.random_range(side.clone()), rng.random_range(side))
}

/// A uniform cell inside the room's walls.
fn interior_cell(rng: &mut impl Rng, room: &Room) -> Pos {
    Pos { x: rng.random_range(room.x + 1..room.x + room.w - 1), y: rng.random_range(room.y + 1..room.y + room.h - 1) }
}

/// A uniform element of `all` other than `except`.
fn pick_other<T: Copy + PartialEq>(rng: &mut impl Rng, all: &[T], except: Option<T>) -> T {
    let n = all.len() - usize::from(except.is_some());
    let k = rng.random_range(0..n);
    all.iter().copied().filter(|&t| Some(t) != except).nth(k).expect("k is below the count of the others")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(options: &MultiRoomOptions, seed: u64) -> World {
        let mut world = World::new(options.grid_size);
        generate(&mut world, options, seed).unwrap();
        world
    }

    #[test]
    fn rooms_chain_through_their_doors() {
        for options in [MultiRoomOptions::default(), MultiRoomOptions::n4_s5(), MultiRoomOptions::n6()] {
            for seed in 0..2000 {
                let w = level(&options, seed);
                let n = w.rooms.len();
                assert!((options.min_rooms..=options.max_rooms).contains(&n));
                assert_eq!(w.doors.len(), n - 1);
                for (i, door) in w.doors.iter().enumerate() {
                    // The door is on both rooms' walls, away from their corners.
                    for room in &w.rooms[i..i + 2] {
                        assert!(room.walls().any(|p| p == *door), "seed {seed}: door {i} not on a wall");
                        let corner_x = door.x == room.x || door.x == room.x + room.w - 1;
                        let corner_y = door.y == room.y || door.y == room.y + room.h - 1;
                        assert!(!(corner_x && corner_y), "seed {seed}: door {i} on a corner");
                    }
                }
                for (i, a) in w.rooms.iter().enumerate() {
                    assert!(a.fits(options.grid_size as i32));
                    let sides = options.min_room_size as i32..=options.max_room_size as i32;
                    assert!(sides.contains(&a.w) && sides.contains(&a.h));
                    for b in w.rooms.iter().skip(i + 2) {
                        assert!(!a.overlaps(b), "seed {seed}: rooms overlap");
                    }
                }
                for pair in w.doors.windows(2) {
                    assert_ne!(w.grid.get(pair[0]), w.grid.get(pair[1]), "seed {seed}: same colour twice running");
                }
                let inside = |p: Pos, r: &Room| p.x > r.x && p.x < r.x + r.w - 1 && p.y > r.y && p.y < r.y + r.h - 1;
                assert!(inside(w.agent, &w.rooms[0]) && inside(w.goal, &w.rooms[n - 1]));
                assert_ne!(w.agent, w.goal);
            }
        }
    }

    #[test]
    fn options_too_tight_for_a_walk_fail_cleanly() {
        // Validation would refuse these: 9 rooms of side 4 cannot fit on a 9 x 9 grid.
        let options = MultiRoomOptions { min_rooms: 9, max_rooms: 9, grid_size: 9, ..MultiRoomOptions::default() };
        let mut world = World::new(options.grid_size);
        assert!(matches!(generate(&mut world, &options, 3), Err(EnvError::InvalidOptions(_))));
    }
}
