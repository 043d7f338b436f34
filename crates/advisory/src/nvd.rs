//! Parser for nvd (being written).
