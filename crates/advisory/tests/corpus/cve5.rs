//! Corpus tests for the cve5 parser (being written).
