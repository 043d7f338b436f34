//! Parser for epss (being written).
