//! Placeholder until scenario loading lands.
use super::ops::Cluster;
use std::sync::Arc;
pub fn resolve(arg: &str) -> Result<Vec<(String, String)>, String> {
    Err(format!("unknown scenario {arg}"))
}
pub async fn load(_c: &Arc<Cluster>, _f: &[(String, String)]) -> Result<(), String> {
    Ok(())
}
