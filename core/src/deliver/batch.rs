//! Delivery for a fleet rotation: every token's destinations checked before
//! the first reset, then each new secret delivered as its token rotates
//! (from the rotation's [`SecretSink`], on the runtime's blocking pool).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Deliverer, DeliveryReport, Destination, Prepared};
use crate::error::{Error, Result};
use crate::fleet::{SecretSink, TokenRef};
use crate::model::IssuedToken;

/// How many tokens' destinations are checked at once before a batch.
const PREFLIGHT_CONCURRENCY: usize = 8;

/// The checked destinations of every token of a batch, and the reports so far.
#[derive(Debug)]
pub struct BatchDelivery {
    deliverer: Deliverer,
    prepared: HashMap<(String, String), Prepared>,
    reports: Mutex<Vec<DeliveryReport>>,
}

impl BatchDelivery {
    /// Preflight for each token's destinations, before anything is reset.
    /// The first destination that fails stops it.
    pub async fn prepare(
        deliverer: Deliverer,
        tokens: Vec<(TokenRef, Vec<Destination>)>,
    ) -> Result<Arc<BatchDelivery>> {
        use futures::StreamExt as _;
        // A token with nowhere to go is rotated as it would be without delivery. The checks
        // run PREFLIGHT_CONCURRENCY at a time: a fleet's preflight is one or two requests
        // per token and destination.
        let checks = tokens
            .into_iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(token, destinations)| {
                let deliverer = &deliverer;
                async move {
                    let ready = deliverer
                        .prepare(destinations)
                        .await
                        .map_err(|e| e.in_context(&format!("{}/{}", token.workspace, token.name)))?;
                    Ok::<_, Error>(((token.workspace, token.name), ready))
                }
            });
        let checked: Vec<Result<_>> = futures::stream::iter(checks)
            .buffered(PREFLIGHT_CONCURRENCY)
            .collect()
            .await;
        let prepared = checked.into_iter().collect::<Result<HashMap<_, _>>>()?;
        Ok(Arc::new(BatchDelivery {
            deliverer,
            prepared,
            reports: Mutex::new(Vec::new()),
        }))
    }

    /// Delivers `issued` (blocking the calling thread, which must not be
    /// one of the runtime's workers). Fails only when the secret is held
    /// nowhere: not delivered everywhere, and not in the recovery store.
    pub fn deliver_blocking(&self, handle: &tokio::runtime::Handle, issued: &IssuedToken) -> Result<()> {
        let key = (issued.workspace.clone().unwrap_or_default(), issued.name.clone());
        let Some(prepared) = self.prepared.get(&key) else {
            return Ok(());
        };
        let report = handle.block_on(self.deliverer.deliver(prepared, issued));
        let lost = !report.is_complete() && report.recovery.is_none();
        let first = report.failed().next().map(|(_, e)| e.without_source());
        self.reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(report);
        match (lost, first) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(Error::config("the secret could not be delivered or kept")),
            _ => Ok(()),
        }
    }

    /// A rotation's sink delivering each new secret, after `then` (an env
    /// file or a JSON line) took it. Built inside the runtime.
    pub fn sink(self: &Arc<Self>, then: Option<SecretSink>) -> SecretSink {
        let handle = tokio::runtime::Handle::current();
        let batch = Arc::clone(self);
        Arc::new(move |issued: &IssuedToken| {
            let written = then.as_ref().map(|sink| sink(issued));
            let delivered = batch.deliver_blocking(&handle, issued);
            match (written, delivered) {
                (Some(Err(e)), _) | (_, Err(e)) => Err(e),
                _ => Ok(()),
            }
        })
    }

    /// The reports of the secrets delivered so far, in order of arrival.
    pub fn reports(&self) -> Vec<DeliveryReport> {
        std::mem::take(&mut *self.reports.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}
