//! msgpack codec for `DynamicValue.msgpack`, the form Terraform always sends.
//!
//! Owns cty's wire rules (see `tfplugin-protocol.md` §3.1): type-directed encoding, refined unknowns
//! in extension 12, cty's number forms, objects as sorted string-keyed maps, and `dynamic` as a
//! `[type JSON, value]` pair. Hand-written: the reader borrows the input, and the only allocations
//! are the decoded values themselves. The decoder treats its input as untrusted: it never panics,
//! bounds nesting by [`MAX_DEPTH`], and never pre-allocates more than the input could fill.

use super::path::At;
use super::type_json::TypeJsonError;
use super::{AttributePath, Number, PathStep, Refinements, Type, Value};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

/// Deepest nesting of arrays, maps and dynamic values the decoder follows. Schemas nest far less;
/// the limit exists so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 128;
/// cty rejects refinement payloads larger than this.
const MAX_REFINEMENT_LEN: usize = 1024;
/// cty keeps at most this many bytes of a refined string prefix.
const MAX_PREFIX_LEN: usize = 256;
/// The extension code of a refined unknown.
const EXT_UNKNOWN_REFINED: i8 = 12;

const REFN_NULLNESS: i64 = 1;
const REFN_STRING_PREFIX: i64 = 2;
const REFN_NUMBER_LOWER: i64 = 3;
const REFN_NUMBER_UPPER: i64 = 4;
const REFN_LENGTH_MIN: i64 = 5;
const REFN_LENGTH_MAX: i64 = 6;

/// Why bytes could not be decoded under a type, or a value could not be encoded under one. Every
/// variant carries the attribute path where it happened, so diagnostics can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input ended in the middle of a value.
    #[error("{}unexpected end of msgpack input", At(.path))]
    Truncated { path: AttributePath },
    /// A msgpack format that cannot appear here, e.g. a map where the type wants a string.
    #[error("{}expected {expected}, found msgpack byte 0x{found:02x}", At(.path))]
    Unexpected { path: AttributePath, expected: &'static str, found: u8 },
    /// A string whose bytes are not UTF-8.
    #[error("{}string is not valid UTF-8", At(.path))]
    InvalidUtf8 { path: AttributePath },
    /// A decimal string that is not a number (or is absurdly long).
    #[error("{}invalid number {text:?}", At(.path))]
    InvalidNumber { path: AttributePath, text: String },
    /// NaN or an infinity, which [`Number`] cannot hold.
    #[error("{}infinite and NaN numbers are not supported", At(.path))]
    NonFiniteNumber { path: AttributePath },
    /// An object lacks one of its type's attributes.
    #[error("{}missing attribute {name:?}", At(.path))]
    MissingAttribute { path: AttributePath, name: String },
    /// An object has an attribute its type does not declare.
    #[error("{}unsupported attribute {name:?}", At(.path))]
    UnexpectedAttribute { path: AttributePath, name: String },
    /// A map or object repeats a key.
    #[error("{}duplicate key {key:?}", At(.path))]
    DuplicateKey { path: AttributePath, key: String },
    /// A tuple with the wrong number of elements.
    #[error("{}tuple needs {expected} elements, found {found}", At(.path))]
    WrongLength { path: AttributePath, expected: usize, found: usize },
    /// A malformed unknown-value extension.
    #[error("{}invalid unknown value: {reason}", At(.path))]
    InvalidUnknown { path: AttributePath, reason: String },
    /// The type half of a dynamic value is not type JSON.
    #[error("{}invalid dynamic value type: {source}", At(.path))]
    InvalidDynamicType {
        path: AttributePath,
        #[source]
        source: TypeJsonError,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("{}value nests deeper than {MAX_DEPTH} levels", At(.path))]
    TooDeep { path: AttributePath },
    /// Bytes left over after the value.
    #[error("{count} unexpected bytes after the msgpack value")]
    TrailingBytes { path: AttributePath, count: usize },
    /// Encoding: the value's kind does not fit the type.
    #[error("{}cannot encode {found} as {expected}", At(.path))]
    TypeMismatch { path: AttributePath, expected: String, found: &'static str },
    /// Encoding: a value under `dynamic` without a [`Value::Dynamic`] wrapper whose type cannot be
    /// inferred.
    #[error("{}cannot tell the type of {found} under a dynamic type; wrap it in Value::Dynamic", At(.path))]
    DynamicWithoutType { path: AttributePath, found: &'static str },
    /// Encoding: a string or collection longer than msgpack can frame.
    #[error("{}value is too large for msgpack", At(.path))]
    TooLarge { path: AttributePath },
}

/// The `path` field of any variant; one match serves `&Error` and `&mut Error`.
macro_rules! path_of {
    ($error:expr) => {
        match $error {
            Error::Truncated { path }
            | Error::Unexpected { path, .. }
            | Error::InvalidUtf8 { path }
            | Error::InvalidNumber { path, .. }
            | Error::NonFiniteNumber { path }
            | Error::MissingAttribute { path, .. }
            | Error::UnexpectedAttribute { path, .. }
            | Error::DuplicateKey { path, .. }
            | Error::WrongLength { path, .. }
            | Error::InvalidUnknown { path, .. }
            | Error::InvalidDynamicType { path, .. }
            | Error::TooDeep { path }
            | Error::TrailingBytes { path, .. }
            | Error::TypeMismatch { path, .. }
            | Error::DynamicWithoutType { path, .. }
            | Error::TooLarge { path } => path,
        }
    };
}

impl Error {
    /// Where in the value the error happened.
    pub fn path(&self) -> &AttributePath {
        path_of!(self)
    }

    fn path_mut(&mut self) -> &mut AttributePath {
        path_of!(self)
    }

    /// Records one step while the error unwinds. Steps are pushed innermost first, so the path is
    /// built only on failure and reversed once by [`Error::finish`].
    fn at(mut self, step: PathStep) -> Self {
        self.path_mut().0.push(step);
        self
    }

    fn finish(mut self) -> Self {
        self.path_mut().0.reverse();
        self
    }
}

fn root() -> AttributePath {
    AttributePath::root()
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Decodes one msgpack value of type `ty`; the whole input must be that one value.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, Error> {
    let mut r = Reader { buf: bytes, pos: 0, depth: 0 };
    let v = r.value(ty).map_err(Error::finish)?;
    if r.pos != bytes.len() {
        return Err(Error::TrailingBytes { path: root(), count: bytes.len() - r.pos });
    }
    Ok(v)
}

/// A cursor over untrusted bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

type Res<T> = Result<T, Error>;

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self) -> Res<u8> {
        self.buf.get(self.pos).copied().ok_or(Error::Truncated { path: root() })
    }

    fn byte(&mut self) -> Res<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::Truncated { path: root() });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Res<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Res<u8> {
        self.byte()
    }
    fn u16(&mut self) -> Res<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Res<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Res<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn enter(&mut self) -> Res<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep { path: root() });
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A capacity the input could actually fill: every element takes at least one byte.
    fn capacity(&self, n: usize) -> usize {
        n.min(self.remaining())
    }

    fn unexpected(found: u8, expected: &'static str) -> Error {
        Error::Unexpected { path: root(), expected, found }
    }

    fn value(&mut self, ty: &Type) -> Res<Value> {
        let b = self.peek()?;
        if b == 0xc0 {
            self.pos += 1;
            return Ok(Value::Null);
        }
        if is_ext(b) {
            return self.unknown(ty);
        }
        match ty {
            Type::String => self.string().map(Value::String),
            Type::Number => self.number().map(Value::Number),
            Type::Bool => self.bool().map(Value::Bool),
            Type::List(e) => self.sequence(e).map(Value::List),
            Type::Set(e) => self.sequence(e).map(Value::Set),
            Type::Map(e) => self.map(e),
            Type::Tuple(types) => self.tuple(types),
            Type::Object { attrs, .. } => self.object(attrs),
            Type::Dynamic => self.dynamic(),
        }
    }

    fn array_len(&mut self) -> Res<usize> {
        let b = self.byte()?;
        Ok(match b {
            0x90..=0x9f => usize::from(b & 0x0f),
            0xdc => usize::from(self.u16()?),
            0xdd => self.u32()? as usize,
            _ => return Err(Self::unexpected(b, "an array")),
        })
    }

    fn map_len(&mut self) -> Res<usize> {
        let b = self.byte()?;
        Ok(match b {
            0x80..=0x8f => usize::from(b & 0x0f),
            0xde => usize::from(self.u16()?),
            0xdf => self.u32()? as usize,
            _ => return Err(Self::unexpected(b, "a map")),
        })
    }

    /// The bytes of a str (any width) or, tolerantly, a bin.
    fn str_bytes(&mut self, expected: &'static str) -> Res<&'a [u8]> {
        let b = self.byte()?;
        let n = match b {
            0xa0..=0xbf => usize::from(b & 0x1f),
            0xd9 | 0xc4 => usize::from(self.u8()?),
            0xda | 0xc5 => usize::from(self.u16()?),
            0xdb | 0xc6 => self.u32()? as usize,
            _ => return Err(Self::unexpected(b, expected)),
        };
        self.take(n)
    }

    fn string(&mut self) -> Res<String> {
        let bytes = self.str_bytes("a string")?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| Error::InvalidUtf8 { path: root() })
    }

    fn bool(&mut self) -> Res<bool> {
        match self.byte()? {
            0xc2 => Ok(false),
            0xc3 => Ok(true),
            b => Err(Self::unexpected(b, "a bool")),
        }
    }

    /// Any msgpack integer, widened so both u64 and i64 fit.
    fn int(&mut self, expected: &'static str) -> Res<i128> {
        let b = self.byte()?;
        Ok(match b {
            0x00..=0x7f => i128::from(b),
            0xe0..=0xff => i128::from(b as i8),
            0xcc => i128::from(self.u8()?),
            0xcd => i128::from(self.u16()?),
            0xce => i128::from(self.u32()?),
            0xcf => i128::from(self.u64()?),
            0xd0 => i128::from(self.u8()? as i8),
            0xd1 => i128::from(self.u16()? as i16),
            0xd2 => i128::from(self.u32()? as i32),
            0xd3 => i128::from(self.u64()? as i64),
            _ => return Err(Self::unexpected(b, expected)),
        })
    }

    fn number(&mut self) -> Res<Number> {
        self.number_or_infinite()?.ok_or(Error::NonFiniteNumber { path: root() })
    }

    /// A number in any of cty's forms; `None` for a float infinity or NaN, which only refinement
    /// bounds may carry (where they mean "no bound").
    fn number_or_infinite(&mut self) -> Res<Option<Number>> {
        let b = self.peek()?;
        match b {
            0xca => {
                self.pos += 1;
                Ok(Number::from_f64(f64::from(f32::from_bits(self.u32()?))))
            }
            0xcb => {
                self.pos += 1;
                Ok(Number::from_f64(f64::from_bits(self.u64()?)))
            }
            0xa0..=0xbf | 0xd9 | 0xda | 0xdb => {
                let bytes = self.str_bytes("a number")?;
                let text = std::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8 { path: root() })?;
                match Number::parse(text) {
                    Some(n) if !text.trim().is_empty() => Ok(Some(n)),
                    _ => Err(Error::InvalidNumber { path: root(), text: truncate(text, 64).to_owned() }),
                }
            }
            _ => {
                let i = self.int("a number")?;
                Ok(Some(match i64::try_from(i) {
                    Ok(i) => Number::from_i64(i),
                    // Only u64 values above i64::MAX get here.
                    Err(_) => Number::from_u64(i as u64),
                }))
            }
        }
    }

    fn sequence(&mut self, elem: &Type) -> Res<Vec<Value>> {
        let n = self.array_len()?;
        self.enter()?;
        let mut items = Vec::with_capacity(self.capacity(n));
        for i in 0..n {
            items.push(self.value(elem).map_err(|e| e.at(PathStep::Index(i as i64)))?);
        }
        self.leave();
        Ok(items)
    }

    fn tuple(&mut self, types: &[Type]) -> Res<Value> {
        let n = self.array_len()?;
        if n != types.len() {
            return Err(Error::WrongLength { path: root(), expected: types.len(), found: n });
        }
        self.enter()?;
        let mut items = Vec::with_capacity(n);
        for (i, t) in types.iter().enumerate() {
            items.push(self.value(t).map_err(|e| e.at(PathStep::Index(i as i64)))?);
        }
        self.leave();
        Ok(Value::Tuple(items))
    }

    fn map(&mut self, elem: &Type) -> Res<Value> {
        let n = self.map_len()?;
        self.enter()?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let key = self.string()?;
            let v = self.value(elem).map_err(|e| e.at(PathStep::Key(key.clone())))?;
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                Entry::Occupied(slot) => return Err(Error::DuplicateKey { path: root(), key: slot.key().clone() }),
            }
        }
        self.leave();
        Ok(Value::Map(out))
    }

    fn object(&mut self, attrs: &BTreeMap<String, Type>) -> Res<Value> {
        let n = self.map_len()?;
        self.enter()?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let key = self.string()?;
            let Some(aty) = attrs.get(&key) else {
                return Err(Error::UnexpectedAttribute { path: root(), name: key });
            };
            let v = self.value(aty).map_err(|e| e.at(PathStep::Attr(key.clone())))?;
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                Entry::Occupied(slot) => return Err(Error::DuplicateKey { path: root(), key: slot.key().clone() }),
            }
        }
        if out.len() != attrs.len() {
            let missing = attrs.keys().find(|k| !out.contains_key(*k)).cloned().unwrap_or_default();
            return Err(Error::MissingAttribute { path: root(), name: missing });
        }
        self.leave();
        Ok(Value::Object(out))
    }

    /// `[type JSON, value]`; null and unknown were handled by the caller.
    fn dynamic(&mut self) -> Res<Value> {
        let b = self.peek()?;
        let n = self.array_len()?;
        if n != 2 {
            return Err(Self::unexpected(b, "a [type, value] pair for a dynamic value"));
        }
        self.enter()?;
        let json = self.str_bytes("the type JSON of a dynamic value")?;
        let ty = Type::from_json(json).map_err(|source| Error::InvalidDynamicType { path: root(), source })?;
        let inner = self.value(&ty)?;
        self.leave();
        Ok(Value::Dynamic(ty, Box::new(inner)))
    }

    /// An extension header and payload: `(code, payload)`.
    fn ext(&mut self) -> Res<(i8, &'a [u8])> {
        let b = self.byte()?;
        let len = match b {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => usize::from(self.u8()?),
            0xc8 => usize::from(self.u16()?),
            0xc9 => self.u32()? as usize,
            _ => return Err(Self::unexpected(b, "an extension")),
        };
        let code = self.u8()? as i8;
        Ok((code, self.take(len)?))
    }

    fn unknown(&mut self, ty: &Type) -> Res<Value> {
        let (code, payload) = self.ext()?;
        if payload.len() <= 1 {
            return Ok(Value::unknown());
        }
        let invalid = |reason: String| Error::InvalidUnknown { path: root(), reason };
        if code != EXT_UNKNOWN_REFINED {
            return Err(invalid(format!("msgpack extension type {code} is not an unknown value")));
        }
        if payload.len() > MAX_REFINEMENT_LEN {
            return Err(invalid(format!("refinements are {} bytes, more than {MAX_REFINEMENT_LEN}", payload.len())));
        }
        let mut sub = Reader { buf: payload, pos: 0, depth: self.depth };
        let refinements = sub.refinements().map_err(|e| invalid(e.to_string()))?;
        Ok(Value::Unknown(normalize(refinements, ty)))
    }

    fn refinements(&mut self) -> Res<Refinements> {
        let mut r = Refinements::default();
        let n = self.map_len()?;
        for _ in 0..n {
            let key = self.int("an integer refinement key")?;
            match i64::try_from(key).unwrap_or(-1) {
                REFN_NULLNESS => {
                    if !self.bool()? {
                        r.not_null = true;
                    }
                }
                REFN_STRING_PREFIX => r.string_prefix = Some(self.string()?),
                k @ (REFN_NUMBER_LOWER | REFN_NUMBER_UPPER) => {
                    let b = self.peek()?;
                    if self.array_len()? != 2 {
                        return Err(Self::unexpected(b, "a [number, inclusive] bound"));
                    }
                    let bound = self.number_or_infinite()?;
                    let inclusive = self.bool()?;
                    let slot = if k == REFN_NUMBER_LOWER { &mut r.number_lower } else { &mut r.number_upper };
                    *slot = bound.map(|n| (n, inclusive));
                }
                k @ (REFN_LENGTH_MIN | REFN_LENGTH_MAX) => {
                    let b = self.peek()?;
                    let len = u64::try_from(self.int("a collection length")?)
                        .map_err(|_| Self::unexpected(b, "a non-negative collection length"))?;
                    if k == REFN_LENGTH_MIN {
                        r.length_min = Some(len);
                    } else {
                        r.length_max = Some(len);
                    }
                }
                _ => self.skip()?,
            }
        }
        Ok(r)
    }

    /// Skips one msgpack value of any format (unknown refinement keys).
    fn skip(&mut self) -> Res<()> {
        let b = self.byte()?;
        let (fixed, children) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, usize::from(b & 0x0f) * 2),
            0x90..=0x9f => (0, usize::from(b & 0x0f)),
            0xa0..=0xbf => (usize::from(b & 0x1f), 0),
            0xc4 | 0xd9 => (usize::from(self.u8()?), 0),
            0xc5 | 0xda => (usize::from(self.u16()?), 0),
            0xc6 | 0xdb => (self.u32()? as usize, 0),
            0xc7 => (usize::from(self.u8()?) + 1, 0),
            0xc8 => (usize::from(self.u16()?) + 1, 0),
            0xc9 => ((self.u32()? as usize).saturating_add(1), 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xca | 0xce | 0xd2 => (4, 0),
            0xcb | 0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (0, usize::from(self.u16()?)),
            0xdd => (0, self.u32()? as usize),
            0xde => (0, usize::from(self.u16()?) * 2),
            0xdf => (0, (self.u32()? as usize).saturating_mul(2)),
            _ => return Err(Self::unexpected(b, "a msgpack value")),
        };
        self.take(fixed)?;
        if children > 0 {
            self.enter()?;
            for _ in 0..children {
                self.skip()?;
            }
            self.leave();
        }
        Ok(())
    }
}

fn is_ext(b: u8) -> bool {
    matches!(b, 0xd4..=0xd8 | 0xc7..=0xc9)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Keeps only the refinements that apply to `ty`, in the form the encoder emits them, so that
/// decode → encode → decode is stable.
fn normalize(mut r: Refinements, ty: &Type) -> Refinements {
    let keep_prefix = matches!(ty, Type::String);
    let keep_bounds = matches!(ty, Type::Number);
    let keep_length = matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_));
    if matches!(ty, Type::Dynamic) {
        return Refinements::default();
    }
    r.string_prefix = r.string_prefix.filter(|_| keep_prefix).and_then(|mut p| {
        let len = truncate(&p, MAX_PREFIX_LEN).len();
        p.truncate(len);
        (!p.is_empty()).then_some(p)
    });
    if !keep_bounds {
        r.number_lower = None;
        r.number_upper = None;
    }
    if !keep_length {
        r.length_min = None;
        r.length_max = None;
    }
    r.length_min = r.length_min.filter(|&n| n > 0);
    r
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Encodes `v` as msgpack under type `ty`.
///
/// Values are untyped, so the encoder is lenient where that is unambiguous: a list type accepts
/// any sequence value, a map or object type any map or object value, an object attribute missing
/// from the value is sent as null, and a [`Value::Dynamic`] under a concrete type is unwrapped.
/// Under `dynamic`, a value without the wrapper is sent with its [`Value::implied_type`].
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, v, ty).map_err(Error::finish)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, v: &Value, ty: &Type) -> Res<()> {
    match (v, ty) {
        (Value::Unknown(r), _) => write_unknown(out, r, ty),
        (Value::Null, _) => out.push(0xc0),
        (_, Type::Dynamic) => write_dynamic(out, v)?,
        (Value::Dynamic(_, inner), _) => write_value(out, inner, ty)?,
        (Value::String(s), Type::String) => write_str(out, s)?,
        (Value::Number(n), Type::Number) => write_number(out, n)?,
        (Value::Bool(b), Type::Bool) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::List(e) | Type::Set(e)) => {
            write_array_len(out, items.len())?;
            for (i, item) in items.iter().enumerate() {
                write_value(out, item, e).map_err(|err| err.at(PathStep::Index(i as i64)))?;
            }
        }
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(Error::WrongLength { path: root(), expected: types.len(), found: items.len() });
            }
            write_array_len(out, items.len())?;
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                write_value(out, item, t).map_err(|err| err.at(PathStep::Index(i as i64)))?;
            }
        }
        (Value::Map(m) | Value::Object(m), Type::Map(e)) => {
            write_map_len(out, m.len())?;
            for (k, item) in m {
                write_str(out, k)?;
                write_value(out, item, e).map_err(|err| err.at(PathStep::Key(k.clone())))?;
            }
        }
        (Value::Map(m) | Value::Object(m), Type::Object { attrs, .. }) => {
            write_map_len(out, attrs.len())?;
            let mut present = 0;
            for (name, t) in attrs {
                write_str(out, name)?;
                match m.get(name) {
                    Some(item) => {
                        present += 1;
                        write_value(out, item, t).map_err(|err| err.at(PathStep::Attr(name.clone())))?;
                    }
                    None => out.push(0xc0),
                }
            }
            if present != m.len() {
                let extra = m.keys().find(|k| !attrs.contains_key(*k)).cloned().unwrap_or_default();
                return Err(Error::UnexpectedAttribute { path: root(), name: extra });
            }
        }
        _ => {
            let expected = String::from_utf8_lossy(&ty.to_json()).into_owned();
            return Err(Error::TypeMismatch { path: root(), expected, found: v.kind_name() });
        }
    }
    Ok(())
}

/// A known value under `dynamic`: `[bin(type JSON), value]`.
fn write_dynamic(out: &mut Vec<u8>, v: &Value) -> Res<()> {
    let (ty, inner) = match v {
        Value::Dynamic(t, inner) => (std::borrow::Cow::Borrowed(t), &**inner),
        other => match other.implied_type() {
            Some(t) => (std::borrow::Cow::Owned(t), other),
            None => return Err(Error::DynamicWithoutType { path: root(), found: other.kind_name() }),
        },
    };
    out.push(0x92);
    // Write the JSON after a bin8 header, then widen the header in the rare case it is too long.
    let start = out.len();
    out.extend_from_slice(&[0xc4, 0]);
    ty.write_json(out);
    let len = out.len() - start - 2;
    if let Ok(short) = u8::try_from(len) {
        out[start + 1] = short;
    } else if let Ok(mid) = u16::try_from(len) {
        let [a, b] = mid.to_be_bytes();
        out.splice(start..start + 2, [0xc5, a, b]);
    } else {
        let long = u32::try_from(len).map_err(|_| Error::TooLarge { path: root() })?;
        let [a, b, c, d] = long.to_be_bytes();
        out.splice(start..start + 2, [0xc6, a, b, c, d]);
    }
    write_value(out, inner, &ty)
}

fn write_unknown(out: &mut Vec<u8>, r: &Refinements, ty: &Type) {
    let dynamic = matches!(ty, Type::Dynamic);
    let not_null = r.not_null && !dynamic;
    let prefix = match ty {
        Type::String => r.string_prefix.as_deref().map(|p| truncate(p, MAX_PREFIX_LEN)).filter(|p| !p.is_empty()),
        _ => None,
    };
    let (lower, upper) = match ty {
        Type::Number => (r.number_lower.as_ref(), r.number_upper.as_ref()),
        _ => (None, None),
    };
    let (len_min, len_max) = match ty {
        Type::List(_) | Type::Set(_) | Type::Map(_) => (r.length_min.filter(|&n| n > 0), r.length_max),
        _ => (None, None),
    };
    let count = usize::from(not_null)
        + usize::from(prefix.is_some())
        + usize::from(lower.is_some())
        + usize::from(upper.is_some())
        + usize::from(len_min.is_some())
        + usize::from(len_max.is_some());
    if count == 0 {
        out.extend_from_slice(&[0xd4, 0, 0]);
        return;
    }
    let mut payload = Vec::with_capacity(16 + prefix.map_or(0, str::len));
    payload.push(0x80 | count as u8);
    if not_null {
        payload.extend_from_slice(&[REFN_NULLNESS as u8, 0xc2]);
    }
    if let Some(p) = prefix {
        payload.push(REFN_STRING_PREFIX as u8);
        // At most 256 bytes: cannot fail.
        let _ = write_str(&mut payload, p);
    }
    for (key, bound) in [(REFN_NUMBER_LOWER, lower), (REFN_NUMBER_UPPER, upper)] {
        if let Some((n, inclusive)) = bound {
            payload.extend_from_slice(&[key as u8, 0x92]);
            let _ = write_number(&mut payload, n);
            payload.push(if *inclusive { 0xc3 } else { 0xc2 });
        }
    }
    for (key, len) in [(REFN_LENGTH_MIN, len_min), (REFN_LENGTH_MAX, len_max)] {
        if let Some(n) = len {
            payload.push(key as u8);
            write_uint(&mut payload, n);
        }
    }
    match payload.len() {
        1 => out.push(0xd4),
        2 => out.push(0xd5),
        4 => out.push(0xd6),
        8 => out.push(0xd7),
        16 => out.push(0xd8),
        n if n <= 0xff => out.extend_from_slice(&[0xc7, n as u8]),
        n if n <= 0xffff => {
            out.push(0xc8);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0xc9);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    out.push(EXT_UNKNOWN_REFINED as u8);
    out.extend_from_slice(&payload);
}

/// cty's number rule: an exact int64 as the most compact int, else an exactly representable f64
/// as `cb`, else the decimal text as a string.
fn write_number(out: &mut Vec<u8>, n: &Number) -> Res<()> {
    if let Some(i) = n.to_i64() {
        write_int(out, i);
    } else if let Some(f) = n.exact_f64() {
        out.push(0xcb);
        out.extend_from_slice(&f.to_bits().to_be_bytes());
    } else {
        write_str(out, &n.to_string())?;
    }
    Ok(())
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        write_uint(out, i as u64);
    } else if i >= -32 {
        out.push(i as u8);
    } else if i >= i64::from(i8::MIN) {
        out.extend_from_slice(&[0xd0, i as u8]);
    } else if i >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u < 0x80 {
        out.push(u as u8);
    } else if u <= 0xff {
        out.extend_from_slice(&[0xcc, u as u8]);
    } else if u <= 0xffff {
        out.push(0xcd);
        out.extend_from_slice(&(u as u16).to_be_bytes());
    } else if u <= 0xffff_ffff {
        out.push(0xce);
        out.extend_from_slice(&(u as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Res<()> {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        let n = u32::try_from(n).map_err(|_| Error::TooLarge { path: root() })?;
        out.push(0xdb);
        out.extend_from_slice(&n.to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_array_len(out: &mut Vec<u8>, n: usize) -> Res<()> {
    write_len(out, n, 0x90, 0xdc, 0xdd)
}

fn write_map_len(out: &mut Vec<u8>, n: usize) -> Res<()> {
    write_len(out, n, 0x80, 0xde, 0xdf)
}

fn write_len(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) -> Res<()> {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        let n = u32::try_from(n).map_err(|_| Error::TooLarge { path: root() })?;
        out.push(b32);
        out.extend_from_slice(&n.to_be_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
