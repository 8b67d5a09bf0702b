//! The API Particulier simulator (to be written).
