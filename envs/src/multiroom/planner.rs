//! A scripted MultiRoom player: the shortest path of cells to the goal (breadth-first search,
//! closed doors counted as passable since `toggle` opens them), turned into actions.

use std::collections::{HashMap, VecDeque};

use super::MultiRoom;
use super::action::Action;
use super::grid::{Cell, Direction, DoorState, Pos};
use super::world::World;

/// Actions that take the agent of `env` to the goal from its current state, before the time
/// limit: along a shortest path of cells, turning towards each next cell, opening it if it is a
/// closed door, stepping forward. `None` outside an episode (before the first reset, after its
/// end), when no path exists, or when the plan is longer than the steps left.
pub fn plan(env: &MultiRoom) -> Option<Vec<Action>> {
    if !env.running {
        return None;
    }
    let actions = follow(&env.world, &path_to_goal(&env.world)?);
    (actions.len() <= (env.max_steps - env.steps) as usize).then_some(actions)
}

/// True when the agent may cross `cell` (a closed door once toggled).
fn passable(cell: Cell) -> bool {
    cell.walkable() || matches!(cell, Cell::Door(..))
}

/// A shortest path of cells from the agent to the goal, both included.
fn path_to_goal(world: &World) -> Option<Vec<Pos>> {
    let start = world.agent;
    let mut previous = HashMap::from([(start, start)]);
    let mut queue = VecDeque::from([start]);
    while let Some(p) = queue.pop_front() {
        if p == world.goal {
            let mut path = vec![p];
            while path[path.len() - 1] != start {
                path.push(previous[&path[path.len() - 1]]);
            }
            path.reverse();
            return Some(path);
        }
        for dir in Direction::ALL {
            let next = p.step(dir);
            if passable(world.grid.get(next)) && !previous.contains_key(&next) {
                previous.insert(next, p);
                queue.push_back(next);
            }
        }
    }
    None
}

/// The actions that walk `path` (neighbouring cells, starting at the agent's).
fn follow(world: &World, path: &[Pos]) -> Vec<Action> {
    let mut dir = world.dir;
    let mut actions = Vec::new();
    for pair in path.windows(2) {
        let want = Direction::ALL.into_iter().find(|&d| pair[0].step(d) == pair[1]).expect("neighbouring cells");
        match (want as usize + 4 - dir as usize) % 4 {
            0 => {}
            1 => actions.push(Action::Right),
            2 => actions.extend([Action::Right; 2]),
            _ => actions.push(Action::Left),
        }
        dir = want;
        if let Cell::Door(_, DoorState::Closed) = world.grid.get(pair[1]) {
            actions.push(Action::Toggle);
        }
        actions.push(Action::Forward);
    }
    actions
}
