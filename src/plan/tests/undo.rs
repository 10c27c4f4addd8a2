//! The inverse of journal entries, by hand.
