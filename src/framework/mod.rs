//! framework (work in progress).
