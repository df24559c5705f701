//! Typed, borrowing reads of upstream stream events that are exactly as forgiving as the `Value` walks
//! they replace. A stream event is parsed on every upstream chunk, and building a `serde_json::Value` tree
//! for it (a `BTreeMap` per object, a `String` per string) was most of a translated stream's CPU. The
//! structs the translators declare on top of these types borrow strings from the event text and skip
//! every field they do not name.
//!
//! Forgiving means: a field of the wrong type reads as if it were absent, the way `Value::as_str` and
//! friends answered `None`, instead of failing the whole event as a plain derived field would.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Any JSON value, keeping a string, a number, or an object read as `T`; arrays and booleans are only
/// remembered as present.
#[derive(Debug, Default)]
pub(crate) enum Loose<'a, T = IgnoredAny> {
    /// Absent or `null`.
    #[default]
    Missing,
    Str(Cow<'a, str>),
    Int(u64),
    Float(f64),
    Obj(T),
    /// A negative integer, a boolean or an array.
    Other,
}

impl<'a, T> Loose<'a, T> {
    /// What `Value::as_str` answered.
    pub(crate) fn str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A string that is not empty.
    pub(crate) fn text(&self) -> Option<&str> {
        self.str().filter(|s| !s.is_empty())
    }

    /// What `Value::as_u64` answered.
    pub(crate) fn u64(&self) -> Option<u64> {
        match self {
            Loose::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// A usage counter as `read::count` reads one, or `None` when absent or `null`.
    pub(crate) fn count(&self) -> Option<u64> {
        match self {
            Loose::Missing => None,
            Loose::Int(n) => Some(*n),
            Loose::Float(f) if *f >= 0.0 => Some(*f as u64),
            _ => Some(0),
        }
    }

    pub(crate) fn obj(&self) -> Option<&T> {
        match self {
            Loose::Obj(t) => Some(t),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Loose<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor(PhantomData))
    }
}

struct LooseVisitor<'a, T>(PhantomData<(Cow<'a, str>, T)>);

impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for LooseVisitor<'a, T> {
    type Value = Loose<'a, T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Loose::Int(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(v).map_or(Loose::Other, Loose::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Float(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Missing)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Missing)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Loose::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Loose::Obj)
    }
}

/// The elements of an array (each read as `T`), or none when the value is not an array. With `FIRST`,
/// only the first element is kept (OpenAI `choices`: the translators use choice 0), so no `Vec` is built.
#[derive(Debug)]
pub(crate) struct Items<T, const FIRST: bool = false>(pub(crate) Vec<T>);

/// Only the first element of an array.
pub(crate) type First<T> = Items<T, true>;

impl<T, const FIRST: bool> Default for Items<T, FIRST> {
    fn default() -> Self {
        Items(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const FIRST: bool> Deserialize<'de> for Items<T, FIRST> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemsVisitor(PhantomData))
    }
}

struct ItemsVisitor<T, const FIRST: bool>(PhantomData<T>);

/// Scalars read as an empty list.
macro_rules! empty_for {
    ($($method:ident($ty:ty)),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<Self::Value, E> {
            Ok(Items::default())
        })*
    };
}

impl<'de, T: Deserialize<'de>, const FIRST: bool> Visitor<'de> for ItemsVisitor<T, FIRST> {
    type Value = Items<T, FIRST>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    empty_for!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str)
    );

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Items::deserialize(d)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Items::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        if FIRST {
            items.extend(seq.next_element::<T>()?);
            while seq.next_element::<IgnoredAny>()?.is_some() {}
        } else {
            while let Some(item) = seq.next_element::<T>()? {
                items.push(item);
            }
        }
        Ok(Items(items))
    }
}

/// A type that borrows from the text it is read from, named without the lifetime, so [`parse`] can read
/// it from the event text or from a `Value` of it.
pub(crate) trait Borrowing {
    type Of<'a>: Deserialize<'a>;
}

/// Parses an event's JSON as `F::Of`. A derived struct rejects a repeated key, which `Value` accepted (the
/// last one wins); only then is the event read through a `Value`, so the common case never builds one.
pub(crate) fn parse<F: Borrowing, R>(
    data: &str,
    use_it: impl for<'b> FnOnce(&F::Of<'b>) -> R,
) -> Result<R, serde_json::Error> {
    match serde_json::from_str::<F::Of<'_>>(data) {
        Ok(t) => Ok(use_it(&t)),
        Err(first) => {
            let value: serde_json::Value = serde_json::from_str(data)?;
            let t = F::Of::deserialize(&value).map_err(|_| first)?;
            Ok(use_it(&t))
        }
    }
}
