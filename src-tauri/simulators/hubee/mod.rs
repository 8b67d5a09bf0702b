//! The Hubee simulator (to be written).
