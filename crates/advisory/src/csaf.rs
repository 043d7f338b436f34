//! Parser for csaf (being written).
