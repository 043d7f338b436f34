//! Parser for kev (being written).
