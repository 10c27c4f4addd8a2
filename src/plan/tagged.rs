//! The file form of an `Action`: one mapping with `action: KIND` beside the kind's fields,
//! written tag first. Reading streams the mapping into the variant's own (derived) visitor
//! instead of buffering it as serde's internally tagged enums do, so a YAML error carries the
//! line and column of the field at fault, not of the action's start. Fields written before
//! `action:` are buffered; their errors point at the action. Shapes only: the fields and
//! their rules have one definition, on `Action` itself.

use super::model::Action;
use serde::de::{self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, VariantAccess, Visitor};
use serde::ser::{self, SerializeMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

const TAG: &str = "action";

/// The derived, externally tagged form.
struct External<'a>(&'a Action);

impl Serialize for External<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Action::serialize(self.0, s)
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let external = serde_json::to_value(External(self)).map_err(ser::Error::custom)?;
        let Some((kind, Value::Object(fields))) = external.as_object().and_then(|o| o.iter().next()) else {
            return Err(ser::Error::custom("an action serializes as a struct variant"));
        };
        let mut map = s.serialize_map(Some(fields.len() + 1))?;
        map.serialize_entry(TAG, kind)?;
        for (k, v) in fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
        d.deserialize_map(ActionVisitor)
    }
}

struct ActionVisitor;

impl<'de> Visitor<'de> for ActionVisitor {
    type Value = Action;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an action: a mapping of `action: KIND` and the kind's fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Action, A::Error> {
        let mut before = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == TAG {
                return Action::deserialize(Tagged { before: before.into_iter(), pending: None, map });
            }
            before.push((key, map.next_value::<serde_yaml::Value>()?));
        }
        Err(de::Error::missing_field(TAG))
    }
}

/// The rest of an action's mapping once `action:` is next, presented as the externally tagged
/// enum the derive reads: the tag's value names the variant, the other entries are its fields.
struct Tagged<A> {
    before: std::vec::IntoIter<(String, serde_yaml::Value)>,
    pending: Option<serde_yaml::Value>,
    map: A,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Tagged<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Tagged<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(mut self, seed: V) -> Result<(V::Value, Self), A::Error> {
        // Read in place, so an unknown kind is reported where it is written.
        let variant = self.map.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

fn not_a_struct<E: de::Error>() -> E {
    E::custom("every action kind has named fields")
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Tagged<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        Err(not_a_struct())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, A::Error> {
        Err(not_a_struct())
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, A::Error> {
        Err(not_a_struct())
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Tagged<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.before.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => self.map.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value).map_err(de::Error::custom),
            None => self.map.next_value_seed(seed),
        }
    }
}
