//! The wire form of a Pod: what the model reads of it, with strings borrowed from the
//! decoded text wherever they need no unescaping. A list page of pods decodes into this
//! form, and `Snapshot` builds the stored `Pod` from it, taking the parts pods repeat from
//! its pools without first building a duplicate. Pure: no IO.

use super::types::nd;
use crate::labels::Labels;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, de};
use std::borrow::Cow;
use std::fmt;

/// A string borrowed from the text when it has no escapes, else owned. (serde borrows a
/// bare `Cow<str>` field only; inside an `Option`, a `Vec` or a map it would always copy.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl Str<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn owned(&self) -> String {
        self.0.as_ref().to_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A string map's entries in key order, as the `BTreeMap` built from them holds them; for a
/// key given twice, the last value (what decoding into a map keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs<'a>(pub Vec<(Str<'a>, Str<'a>)>);

impl<'a> Pairs<'a> {
    fn from_entries(mut v: Vec<(Str<'a>, Str<'a>)>) -> Self {
        // Reversed first, so the stable sort leaves each key's last value ahead of the
        // earlier ones, and `dedup_by` keeps it.
        v.reverse();
        v.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        v.dedup_by(|later, kept| later.0 == kept.0);
        Pairs(v)
    }

    pub fn build(&self) -> Labels {
        self.0.iter().map(|(k, v)| (k.owned(), v.owned())).collect()
    }
}

/// Decodes a string map (`null` is empty), keeping the entries whose key passes `keep`; the
/// others are skipped without being built.
struct PairsVisitor(fn(&str) -> bool);

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Pairs<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of strings")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Pairs<'de>, E> {
        Ok(Pairs::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Pairs<'de>, E> {
        Ok(Pairs::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Pairs<'de>, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<'de>, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            if (self.0)(key.as_str()) {
                out.push((key, map.next_value()?));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Pairs::from_entries(out))
    }
}

fn all_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Pairs<'de>, D::Error> {
    d.deserialize_option(PairsVisitor(|_| true))
}

/// Only Istio's annotations (keys containing `istio.io/`): no other annotation decides
/// anything in the model, and the rest would make every workload's set distinct.
pub(crate) fn istio_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Pairs<'de>, D::Error> {
    d.deserialize_option(PairsVisitor(|k| k.contains("istio.io/")))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OwnerWire<'a> {
    #[serde(borrow, default, deserialize_with = "nd")]
    pub kind: Str<'a>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub name: Str<'a>,
    #[serde(default, deserialize_with = "nd")]
    pub controller: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaWire<'a> {
    #[serde(borrow, default, deserialize_with = "nd")]
    pub name: Str<'a>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub namespace: Str<'a>,
    #[serde(borrow, default, deserialize_with = "all_pairs")]
    pub labels: Pairs<'a>,
    #[serde(borrow, default, deserialize_with = "istio_pairs")]
    pub annotations: Pairs<'a>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub owner_references: Vec<OwnerWire<'a>>,
    #[serde(borrow, default)]
    pub creation_timestamp: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub deletion_timestamp: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerWire<'a> {
    #[serde(borrow, default, deserialize_with = "nd")]
    pub name: Str<'a>,
    #[serde(borrow, default)]
    pub image: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub restart_policy: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecWire<'a> {
    #[serde(borrow, default)]
    pub service_account_name: Option<Str<'a>>,
    #[serde(default, deserialize_with = "nd")]
    pub host_network: bool,
    #[serde(borrow, default)]
    pub node_name: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub containers: Vec<ContainerWire<'a>>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub init_containers: Vec<ContainerWire<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConditionWire<'a> {
    #[serde(borrow, default, rename = "type", deserialize_with = "nd")]
    pub type_: Str<'a>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub status: Str<'a>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatusWire<'a> {
    #[serde(borrow, default, deserialize_with = "nd")]
    pub name: Str<'a>,
    #[serde(default, deserialize_with = "nd")]
    pub ready: bool,
    #[serde(default, deserialize_with = "nd")]
    pub restart_count: i64,
    #[serde(borrow, default)]
    pub image: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusWire<'a> {
    #[serde(borrow, default)]
    pub phase: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub conditions: Vec<ConditionWire<'a>>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub container_statuses: Vec<ContainerStatusWire<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodWire<'a> {
    #[serde(borrow, default)]
    pub metadata: MetaWire<'a>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub spec: SpecWire<'a>,
    #[serde(borrow, default, deserialize_with = "nd")]
    pub status: StatusWire<'a>,
}
