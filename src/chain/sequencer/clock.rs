//! [`BlockClock`]: the timestamp of the next block, from the configured [`Clock`], a time
//! offset ([`Chain::increase_time`](super::Chain::increase_time)) and a timestamp set for the
//! next block ([`Chain::set_next_timestamp`](super::Chain::set_next_timestamp)), as anvil
//! keeps time:
//!
//! - the next block's timestamp is the clock's time plus the offset, or the timestamp set, and
//!   always at least the parent's plus one;
//! - a timestamp set for the next block also moves the offset, so that later blocks continue
//!   from it instead of jumping back to the clock's time.
//!
//! The deterministic clock's time advances by its step with every block mined.

use std::time::{SystemTime, UNIX_EPOCH};

use super::config::Clock;

/// The time-keeping state of a chain (copied whole by a snapshot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BlockClock {
    clock: Clock,
    /// Seconds added to the clock's time (negative after a next timestamp in the past).
    offset: i64,
    /// The timestamp set for the next block.
    next: Option<u64>,
    /// The deterministic clock's time at the last block.
    now: u64,
}

/// `time + offset`, within `0..=u64::MAX`.
fn shift(time: u64, offset: i64) -> u64 {
    let shifted = i128::from(time) + i128::from(offset);
    u64::try_from(shifted.max(0)).unwrap_or(u64::MAX)
}

impl BlockClock {
    /// A clock for a chain whose head has timestamp `head_timestamp`.
    pub(super) fn new(clock: Clock, head_timestamp: u64) -> Self {
        BlockClock {
            clock,
            offset: 0,
            next: None,
            now: head_timestamp,
        }
    }

    /// Seconds added to the clock's time.
    pub(super) fn offset(&self) -> i64 {
        self.offset
    }

    /// Adds `seconds` to the offset; returns the new offset.
    pub(super) fn increase(&mut self, seconds: u64) -> i64 {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        self.offset = self.offset.saturating_add(seconds);
        self.offset
    }

    /// Fixes the next block's timestamp.
    pub(super) fn set_next(&mut self, timestamp: u64) {
        self.next = Some(timestamp);
    }

    /// The clock's time for the next block: the system time (`wall` if given), or the
    /// deterministic time one step on.
    fn time(&self, wall: Option<u64>) -> u64 {
        match self.clock {
            Clock::System => wall.unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            }),
            Clock::Deterministic { step } => self.now.saturating_add(step),
        }
    }

    /// The timestamp of a block following one at `parent`, and the clock once that block is
    /// mined (to keep only if it is).
    pub(super) fn next_block(&self, parent: u64, wall: Option<u64>) -> (u64, BlockClock) {
        let time = self.time(wall);
        let mut after = BlockClock {
            next: None,
            now: time,
            ..*self
        };
        let timestamp = match self.next {
            Some(timestamp) => {
                let offset = i128::from(timestamp) - i128::from(time);
                after.offset =
                    i64::try_from(offset).unwrap_or(if offset < 0 { i64::MIN } else { i64::MAX });
                timestamp
            }
            None => shift(time, self.offset),
        };
        (timestamp.max(parent.saturating_add(1)), after)
    }

    /// Whether the system time `wall`, with the offset, has reached `timestamp`.
    pub(super) fn reached(&self, wall: u64, timestamp: u64) -> bool {
        shift(wall, self.offset) >= timestamp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_time_steps_and_offsets_persist() {
        let mut clock = BlockClock::new(Clock::Deterministic { step: 2 }, 100);
        let mut parent = 100;
        let mut mine = |clock: &mut BlockClock| {
            let (timestamp, after) = clock.next_block(parent, Some(5_000));
            *clock = after;
            parent = timestamp;
            timestamp
        };
        assert_eq!(mine(&mut clock), 102);
        assert_eq!(mine(&mut clock), 104);
        assert_eq!(clock.increase(10), 10);
        assert_eq!(mine(&mut clock), 116);
        assert_eq!(mine(&mut clock), 118, "the offset stays, added once");
        clock.set_next(1_000);
        assert_eq!(mine(&mut clock), 1_000);
        assert_eq!(mine(&mut clock), 1_002, "later blocks continue from it");
        clock.set_next(5);
        assert_eq!(mine(&mut clock), 1_003, "never before the parent");
        assert_eq!(clock.offset(), 5 - 114);
    }

    #[test]
    fn system_time_uses_the_wall_clock_and_the_offset() {
        let mut clock = BlockClock::new(Clock::System, 0);
        let (timestamp, _) = clock.next_block(0, Some(1_000));
        assert_eq!(timestamp, 1_000);
        clock.increase(60);
        let (timestamp, after) = clock.next_block(0, Some(1_000));
        assert_eq!(timestamp, 1_060);
        assert!(after.reached(1_000, 1_060) && !after.reached(999, 1_060));
        clock.set_next(2_000);
        let (timestamp, after) = clock.next_block(1_060, Some(1_010));
        assert_eq!((timestamp, after.offset()), (2_000, 990));
        let (timestamp, _) = after.next_block(2_000, Some(1_020));
        assert_eq!(timestamp, 2_010);
        assert_eq!(shift(5, i64::MIN), 0);
        assert_eq!(shift(u64::MAX, 1), u64::MAX);
    }
}
