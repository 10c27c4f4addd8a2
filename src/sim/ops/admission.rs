//! The cluster's side of admission: running validation on a write when its options ask for
//! it, and keeping the log of refused writes.

use super::{Cluster, OpError, WriteOpts, meta};
use crate::sim::kinds::Kind;
use crate::sim::validate::{self, Refusal, Via};
use serde_json::Value;

/// A write the validation refused, kept so tests can prove the controllers' own writes stay
/// valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub manager: String,
    pub kind: &'static str,
    pub name: String,
    pub message: String,
}

impl Cluster {
    /// Every write refused by validation so far (bounded), with who made it.
    pub fn refusals(&self) -> Vec<Refused> {
        self.refusals.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn refuse(&self, kind: &Kind, obj: &Value, manager: &str, r: Box<Refusal>) -> OpError {
        let mut log = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() < 1000 {
            log.push(Refused {
                manager: manager.to_string(),
                kind: kind.kind,
                name: meta(obj, "name").unwrap_or_default().to_string(),
                message: r.message.clone(),
            });
        }
        OpError::Refused(r)
    }

    /// The body's types, when the write is validated.
    pub(super) fn check_typed(
        &self,
        kind: &'static Kind,
        obj: &Value,
        via: Via,
        opts: WriteOpts<'_>,
    ) -> Result<(), OpError> {
        match opts.validate {
            true => validate::typed(kind, obj, via).map_err(|r| self.refuse(kind, obj, opts.manager, r)),
            false => Ok(()),
        }
    }

    /// The kind's validation and the validating webhooks, when the write is validated.
    pub(super) fn check_admit(
        &self,
        kind: &'static Kind,
        obj: &Value,
        old: Option<&Value>,
        opts: WriteOpts<'_>,
    ) -> Result<(), OpError> {
        match opts.validate {
            true => validate::admit(kind, obj, old).map_err(|r| self.refuse(kind, obj, opts.manager, r)),
            false => Ok(()),
        }
    }
}
