//! The paged initial list of one kind: pages fetched one ahead of decoding into reused
//! buffers, each decoded in one pass where the sink can, into the sink's staging area. It
//! does not watch; `watch.rs` owns the loop around it.

use super::super::page::ListMeta;
use super::{KindStatus, Sink, SyncState};
use kube::api::ListParams;
use kube::core::Request;
use serde_json::value::RawValue;
use std::sync::Arc;

#[derive(serde::Deserialize)]
struct RawList<'a> {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

/// Objects per list page. The next page is fetched while this one decodes (see `list`).
const PAGE: u32 = 500;

/// Aborts a spawned page fetch when the list gives up (an error, or its task dropped).
struct Prefetch(tokio::task::JoinHandle<Result<Vec<u8>, kube::Error>>);

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fetches one page into `buf`, a buffer of an earlier page handed back for reuse: a page of
/// pods is megabytes, and reading it straight into a warm buffer saves the copies and page
/// faults of collecting it afresh.
fn fetch_page(
    client: &kube::Client,
    req: &Request,
    cont: Option<&str>,
    mut buf: Vec<u8>,
) -> Result<Prefetch, kube::Error> {
    use futures::AsyncBufReadExt;
    let mut lp = ListParams::default().limit(PAGE);
    if let Some(c) = cont {
        lp = lp.continue_token(c);
    }
    let http = req.list(&lp).map_err(kube::Error::BuildRequest)?;
    let client = client.clone();
    Ok(Prefetch(tokio::spawn(async move {
        let body = client.request_stream(http).await?;
        futures::pin_mut!(body);
        buf.clear();
        // Chunk by chunk rather than `read_to_end`, which zeroes the whole spare capacity of
        // the buffer first: a megabytes-large memset per page.
        loop {
            let chunk = body.fill_buf().await.map_err(|e| kube::Error::Service(Box::new(e)))?;
            if chunk.is_empty() {
                return Ok(buf);
            }
            buf.extend_from_slice(chunk);
            let n = chunk.len();
            futures::AsyncBufRead::consume(body.as_mut(), n);
        }
    })))
}

/// Lists page by page. Each page's items stay borrowed from its body text (no copy per
/// item), and the request for the next page goes out before this page decodes, so the
/// server and the transport work while the items are decoded.
pub(super) async fn list(
    client: &kube::Client,
    req: &Request,
    refl: &KindStatus,
    sink: &Arc<dyn Sink>,
    bump: &impl Fn(),
) -> Result<String, kube::Error> {
    let mut loaded = 0usize;
    let first_listing = matches!(refl.state(), SyncState::Listing { .. });
    let mut pending = fetch_page(client, req, None, Vec::new())?;
    let mut spare = Vec::new();
    loop {
        let text = (&mut pending.0).await.map_err(|e| kube::Error::Service(Box::new(e)))??;
        // Decoding a page takes milliseconds of CPU: off the runtime's workers, so the next
        // page's fetch (spawned from `on_meta`) runs meanwhile instead of waiting in this
        // worker's queue until the decode is done.
        let (c, r, s) = (client.clone(), req.clone(), sink.clone());
        let page = tokio::task::spawn_blocking(move || decode_page(&c, &r, s.as_ref(), text, spare))
            .await
            .map_err(|e| kube::Error::Service(Box::new(e)))?;
        spare = page.text;
        let (meta, n, warnings) = page.decoded.map_err(kube::Error::SerdeError)?;
        loaded += n;
        for w in warnings {
            refl.warn(w);
        }
        let cont = meta.next().is_some();
        if let Some(next) = page.next {
            pending = next?;
        }
        if first_listing {
            refl.set_state(SyncState::Listing { loaded });
            bump();
        }
        if !cont {
            sink.list_done();
            refl.set_state(SyncState::Synced);
            bump();
            return Ok(meta.resource_version.unwrap_or_default());
        }
    }
}

struct Decoded {
    /// The page's buffer, handed back for reuse.
    text: Vec<u8>,
    decoded: Result<(ListMeta, usize, Vec<String>), serde_json::Error>,
    next: Option<Result<Prefetch, kube::Error>>,
}

/// One page into the sink: in one pass where the sink can, else item by item with warnings
/// that name what could not be read. The next page is requested as soon as its token is known.
fn decode_page(client: &kube::Client, req: &Request, sink: &dyn Sink, text: Vec<u8>, spare: Vec<u8>) -> Decoded {
    let mut spare = Some(spare);
    let mut next: Option<Result<Prefetch, kube::Error>> = None;
    let mut request_next = |cont: &str, next: &mut Option<_>| {
        if next.is_none() {
            *next = Some(fetch_page(client, req, Some(cont), spare.take().unwrap_or_default()));
        }
    };
    let fast = {
        let mut on_meta = |m: &ListMeta| {
            if let Some(c) = m.next() {
                request_next(c, &mut next);
            }
        };
        sink.list_text(&text, &mut on_meta)
    };
    let decoded = match fast {
        Some((meta, n)) => Ok((meta, n, Vec::new())),
        None => serde_json::from_slice::<RawList>(&text).map(|page| {
            if let Some(c) = page.metadata.next() {
                request_next(c, &mut next);
            }
            let warnings = sink.list_page(&page.items);
            (page.metadata, page.items.len(), warnings)
        }),
    };
    Decoded { text, decoded, next }
}
