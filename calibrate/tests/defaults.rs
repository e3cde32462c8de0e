//! The built-in schedule and runtime costs are the ones the committed calibration priced: every
//! quantity of its table has the value the defaults hold, and every quantity is in the table.

use std::collections::BTreeMap;

use tally_calibrate::param::{Costs, Param};

const EVIDENCE: &str = include_str!("../../docs/calibration/table.json");

#[test]
fn the_defaults_are_the_calibrated_schedule() {
    let evidence: serde_json::Value = serde_json::from_str(EVIDENCE).unwrap();
    let lines = evidence["lines"].as_array().unwrap();
    let values: BTreeMap<String, u64> = lines
        .iter()
        .map(|l| {
            (
                l["quantity"].as_str().unwrap().to_string(),
                l["value"].as_u64().unwrap(),
            )
        })
        .collect();
    let defaults = Costs::default();
    for param in Param::all() {
        let name = param.to_string();
        assert_eq!(
            values.get(&name),
            Some(&defaults.get(param)),
            "{name}: the table and the default differ"
        );
    }
    assert_eq!(values.len(), Param::all().len());
}
