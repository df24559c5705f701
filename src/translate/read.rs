//! Reading untrusted JSON with the field path at hand. The translators walk `serde_json::Value` instead of
//! typed structs so that unknown block types and fields pass through or get reported rather than failing
//! the whole request, and so a wrong type is reported as `messages[3].content[1].id` — the path is a linked
//! list on the stack and only rendered into a string when an error is built.

use serde_json::{Map, Value};

use super::error::TranslateError;

/// A JSON path, built one segment per call frame.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// Which side's body is being read: decides the error variant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Request,
    Response,
}

impl<'a> Path<'a> {
    pub(crate) const ROOT: Path<'static> = Path {
        parent: None,
        seg: Seg::Root,
    };

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Index(index),
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            segs.push(p.seg);
            cur = p.parent;
        }
        let mut out = String::new();
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => {}
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            out.push_str("(body)");
        }
        out
    }

    pub(crate) fn err(&self, side: Side, expected: &'static str) -> TranslateError {
        match side {
            Side::Request => TranslateError::InvalidRequest {
                path: self.render(),
                expected,
            },
            Side::Response => TranslateError::InvalidResponse {
                path: self.render(),
                expected,
            },
        }
    }

    pub(crate) fn unsupported(&self, reason: &'static str) -> TranslateError {
        TranslateError::Unsupported {
            path: self.render(),
            reason,
        }
    }
}

pub(crate) type Res<T> = Result<T, TranslateError>;

pub(crate) fn as_object<'v>(v: &'v Value, at: &Path, side: Side) -> Res<&'v Map<String, Value>> {
    v.as_object().ok_or_else(|| at.err(side, "an object"))
}

/// A string field that may be absent or null.
pub(crate) fn opt_str<'v>(
    m: &'v Map<String, Value>,
    key: &str,
    at: &Path,
    side: Side,
) -> Res<Option<&'v str>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(at.key(key).err(side, "a string")),
    }
}

pub(crate) fn req_str<'v>(
    m: &'v Map<String, Value>,
    key: &str,
    at: &Path,
    side: Side,
) -> Res<&'v str> {
    opt_str(m, key, at, side)?.ok_or_else(|| at.key(key).err(side, "a string (required)"))
}

pub(crate) fn opt_array<'v>(
    m: &'v Map<String, Value>,
    key: &str,
    at: &Path,
    side: Side,
) -> Res<Option<&'v Vec<Value>>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(at.key(key).err(side, "an array")),
    }
}

pub(crate) fn opt_object<'v>(
    m: &'v Map<String, Value>,
    key: &str,
    at: &Path,
    side: Side,
) -> Res<Option<&'v Map<String, Value>>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(at.key(key).err(side, "an object")),
    }
}

/// A non-negative integer field (also accepts integral floats such as `1024.0`).
pub(crate) fn opt_u64(
    m: &Map<String, Value>,
    key: &str,
    at: &Path,
    side: Side,
) -> Res<Option<u64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                return Ok(Some(u));
            }
            match n.as_f64() {
                Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => {
                    Ok(Some(f as u64))
                }
                _ => Err(at.key(key).err(side, "a non-negative integer")),
            }
        }
        Some(_) => Err(at.key(key).err(side, "a non-negative integer")),
    }
}

pub(crate) fn opt_f64(
    m: &Map<String, Value>,
    key: &str,
    at: &Path,
    side: Side,
) -> Res<Option<f64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| at.key(key).err(side, "a number")),
        Some(_) => Err(at.key(key).err(side, "a number")),
    }
}

pub(crate) fn opt_bool(
    m: &Map<String, Value>,
    key: &str,
    at: &Path,
    side: Side,
) -> Res<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(at.key(key).err(side, "a boolean")),
    }
}

/// A lenient number read for usage counters in responses: absent, null or odd values count as 0.
pub(crate) fn count(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .unwrap_or(0),
        _ => 0,
    }
}

/// Serializes a JSON value; `Value` serialization cannot fail, so an error here degrades to `{}`.
pub(crate) fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

pub(crate) fn to_string(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_owned())
}
