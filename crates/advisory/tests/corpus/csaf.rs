//! Corpus tests for the csaf parser (being written).
