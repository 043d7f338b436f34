//! Corpus tests for the kev parser (being written).
