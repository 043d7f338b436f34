//! Parser for cve5 (being written).
