//! Integration tests of the delivery edge (filled in below).
