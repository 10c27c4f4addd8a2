//! Table-driven tests of the patch forms and of server-side apply, with hand-written
//! expected objects and fieldsV1.

mod patches;
mod ssa;
mod strategic;

use crate::sim::kinds::{self, Kind};

pub(super) fn kind(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).expect("known kind")
}
