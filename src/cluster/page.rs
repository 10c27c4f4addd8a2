//! One-pass decoding of a list page: the list's metadata and every item decoded straight into
//! the sink's slim type, in a single scan of the body. The metadata comes before the items in
//! the API server's output, so the caller learns the continue token (and can request the next
//! page) before the items are decoded. It does no IO.

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

#[derive(Deserialize, Default, Debug, Clone, PartialEq, Eq)]
pub struct ListMeta {
    #[serde(rename = "resourceVersion", default)]
    pub resource_version: Option<String>,
    #[serde(rename = "continue", default)]
    pub continue_: Option<String>,
}

impl ListMeta {
    pub fn next(&self) -> Option<&str> {
        self.continue_.as_deref().filter(|c| !c.is_empty())
    }
}

/// Decodes `text`, a list body, calling `on_meta` once with the list metadata as soon as it
/// is read and `each` with every item. Returns the metadata and the item count. Any malformed
/// item fails the whole page, so the caller can fall back to a path that names it; items
/// handed to `each` before the failure must be safe to hand over again. Items may borrow
/// from `text`.
pub fn decode<'de, T: Deserialize<'de>>(
    text: &'de [u8],
    on_meta: &mut dyn FnMut(&ListMeta),
    each: &mut dyn FnMut(T),
) -> Result<(ListMeta, usize), serde_json::Error> {
    // One check of the whole page (at memory speed) instead of one per string parsed.
    let text = std::str::from_utf8(text)
        .map_err(|e| serde::de::Error::custom(format_args!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let out = PageSeed { on_meta, each, _t: PhantomData }.deserialize(&mut de)?;
    de.end()?;
    Ok(out)
}

/// The list metadata from the first bytes of a list body, when they hold all of it ahead of
/// the items, as the API server writes it; `None` when they do not tell.
pub fn meta_prefix(prefix: &[u8]) -> Option<ListMeta> {
    struct Seek<'a>(&'a mut Option<ListMeta>);
    impl<'de> Visitor<'de> for Seek<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    // Found: stop reading here, with an error the caller ignores.
                    "metadata" => {
                        *self.0 = Some(map.next_value()?);
                        return Err(serde::de::Error::custom("found"));
                    }
                    "items" => return Err(serde::de::Error::custom("items ahead of the metadata")),
                    _ => map.next_value::<IgnoredAny>()?,
                };
            }
            // The whole body, and no metadata in it.
            *self.0 = Some(ListMeta::default());
            Ok(())
        }
    }
    let mut found = None;
    let mut de = serde_json::Deserializer::from_slice(prefix);
    let _ = serde::Deserializer::deserialize_map(&mut de, Seek(&mut found));
    found
}

struct PageSeed<'f, T> {
    on_meta: &'f mut dyn FnMut(&ListMeta),
    each: &'f mut dyn FnMut(T),
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = (ListMeta, usize);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for PageSeed<'_, T> {
    type Value = (ListMeta, usize);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut meta: Option<ListMeta> = None;
        let mut count = 0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "metadata" => {
                    let m: ListMeta = map.next_value()?;
                    (self.on_meta)(&m);
                    meta = Some(m);
                }
                "items" => count = map.next_value_seed(Items { each: &mut *self.each })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let meta = match meta {
            Some(m) => m,
            None => {
                let m = ListMeta::default();
                (self.on_meta)(&m);
                m
            }
        };
        Ok((meta, count))
    }
}

struct Items<'f, T> {
    each: &'f mut dyn FnMut(T),
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Items<'_, T> {
    type Value = usize;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Items<'_, T> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items")
    }
    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while let Some(item) = seq.next_element::<T>()? {
            (self.each)(item);
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Item {
        name: String,
    }

    fn run(text: &str) -> Result<(ListMeta, Vec<String>, Vec<&'static str>), String> {
        let mut order = Vec::new();
        let mut names = Vec::new();
        let mut on_meta = |_: &ListMeta| order.push("meta");
        let mut each = |i: Item| names.push(i.name);
        let (meta, n) = decode(text.as_bytes(), &mut on_meta, &mut each).map_err(|e| e.to_string())?;
        assert_eq!(n, names.len());
        Ok((meta, names, order))
    }

    #[test]
    fn metadata_then_items_in_one_pass() {
        let (meta, names, order) =
            run(r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"c1"},
               "items":[{"name":"a","spec":{"x":[1,2]}},{"name":"b"}]}"#)
            .unwrap();
        assert_eq!(meta.resource_version.as_deref(), Some("42"));
        assert_eq!(meta.next(), Some("c1"));
        assert_eq!(names, ["a", "b"]);
        assert_eq!(order, ["meta"]);
    }

    #[test]
    fn null_items_missing_metadata_and_bad_items() {
        let (meta, names, order) = run(r#"{"items":null}"#).unwrap();
        assert_eq!((meta, names, order), (ListMeta::default(), vec![], vec!["meta"]));
        let (_, _, order) = run(r#"{"metadata":{"continue":""},"items":[]}"#).unwrap();
        assert_eq!(order, ["meta"]);
        let err = run(r#"{"metadata":{},"items":[{"name":"a"},{"nom":"b"}]}"#).unwrap_err();
        assert!(err.contains("missing field `name`"), "{err}");
        assert!(run(r#"{"items":[]} trailing"#).is_err());
    }

    #[test]
    fn metadata_is_read_off_the_first_bytes_when_they_hold_it() {
        let next = |prefix: &str| meta_prefix(prefix.as_bytes()).map(|m| m.next().map(str::to_owned));
        let head =
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"abc"},"items":[{"na"#;
        assert_eq!(next(head), Some(Some("abc".into())));
        assert_eq!(next(r#"{"kind":"PodList","metadata":{"resourceVersion":"7"},"items":["#), Some(None));
        // Cut inside the metadata, or the items first: the decode has to tell.
        assert_eq!(next(r#"{"kind":"PodList","metadata":{"resourceVersion":"7","cont"#), None);
        assert_eq!(next(r#"{"items":[],"metadata":{"continue":"x"}}"#), None);
        assert_eq!(next(r#"{"kind":"Pod"#), None);
        // A whole body without metadata is a last page.
        assert_eq!(next(r#"{"kind":"PodList"}"#), Some(None));
    }

    #[test]
    fn a_page_that_is_not_utf8_fails_naming_the_byte() {
        let mut on_meta = |_: &ListMeta| {};
        let mut each = |_: Item| {};
        let err = decode(b"{\"items\":[{\"name\":\"a\xff\"}]}", &mut on_meta, &mut each).unwrap_err();
        assert_eq!(err.to_string(), "invalid UTF-8 at byte 20");
    }
}
