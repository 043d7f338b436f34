//! Corpus tests for the epss parser (being written).
