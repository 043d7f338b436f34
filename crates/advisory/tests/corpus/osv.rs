//! Corpus tests for the osv parser (being written).
