//! Corpus tests for the nvd parser (being written).
