//! Export of a plan as files for a pull request. Pure: returns (file name, text) pairs.

use super::preview::PreviewItem;

pub fn export(items: &[PreviewItem]) -> Result<Vec<(String, String)>, String> {
    let _ = items;
    Err("export is not built yet".into())
}
