//! cty: Terraform's type system, as it travels on the wire.
//!
//! Owns types, values (with refined unknowns), arbitrary-precision numbers, attribute paths and the
//! msgpack and JSON codecs. Pure: no I/O, no knowledge of the plugin protocol or of any resource.

pub mod json;
pub mod msgpack;
mod number;
mod path;
#[cfg(test)]
mod strategies;
mod type_json;
mod types;
mod value;

pub use number::Number;
pub use path::{AttributePath, PathStep};
pub use type_json::TypeJsonError;
pub use types::Type;
pub use value::{Refinements, Value};
