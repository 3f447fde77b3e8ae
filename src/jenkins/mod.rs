//! jenkins (work in progress).
