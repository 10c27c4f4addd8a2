//! Placeholder until scale generation lands.
use super::ops::Cluster;
#[derive(Debug, Clone)]
pub struct ScaleSpec;
impl ScaleSpec {
    pub fn parse(_s: &str) -> Result<ScaleSpec, String> {
        Ok(ScaleSpec)
    }
}
pub fn generate(_c: &Cluster, _s: &ScaleSpec) {}
