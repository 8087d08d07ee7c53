use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub level: String,
    pub unit: String,
    pub millis: u64,
    pub message: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    pub entries: usize,
    pub by_level: BTreeMap<String, usize>,
    pub slowest_unit: Option<String>,
    pub total_millis: u64,
}

impl Summary {
    pub fn from_entries(entries: &[Entry]) -> Self {
        let mut s = Summary { entries: entries.len(), ..Default::default() };
        let mut slowest = 0;
        for e in entries {
            *s.by_level.entry(e.level.clone()).or_default() += 1;
            s.total_millis += e.millis;
            if e.millis >= slowest {
                slowest = e.millis;
                s.slowest_unit = Some(e.unit.clone());
            }
        }
        s
    }
}
