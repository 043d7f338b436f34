//! Parser for osv (being written).
