//! The catalog of calibration rows, in the order their quantities are priced: each row's units
//! may only use quantities priced by earlier rows (and its own).

pub mod chain;
mod host;
mod modules;
mod operators;
pub(crate) mod probes;

use crate::env::Scale;
use crate::row::Row;

/// Every row, in pricing order.
pub fn catalog(scale: Scale) -> Vec<Row> {
    let mut rows = operators::rows(scale);
    rows.extend(modules::rows(scale));
    rows.extend(host::rows(scale));
    rows.extend(chain::rows(scale));
    rows
}
