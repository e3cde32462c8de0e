//! # tally-calibrate
//!
//! Calibration of Tally's gas schedule. Every priced quantity of the VM schedule and of the
//! runtime's costs ([`param::Param`]) has a row ([`row::Row`]): a workload that isolates it, in
//! its worst case, measured at several sizes. A row's units are charged known amounts of other
//! quantities too ([`composition`]: derived from the gas the workload is charged, never counted
//! by hand); rows are priced in order, each quantity from its own row once the earlier ones are
//! known ([`solve`]), at one fixed conversion of nanoseconds to gas. The report ([`report`],
//! [`chart`]) shows for every row the time measured, the gas charged and the nanoseconds per
//! gas, and, where valgrind runs, instructions per gas ([`callgrind`]).

pub mod budget;
pub mod callgrind;
pub mod chart;
pub mod composition;
pub mod env;
pub mod error;
pub mod fit;
pub mod kernel;
pub mod measure;
pub mod param;
pub mod progress;
pub mod report;
pub mod row;
pub mod rows;
pub mod solve;
