//! msgpack codec (placeholder; the full codec lands with the cty codec work).
