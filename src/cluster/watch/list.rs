//! The paged initial list of one kind: pages fetched one ahead of decoding into reused
//! buffers, each decoded in one pass where the sink can, into the sink's staging area. It
//! does not watch; `watch.rs` owns the loop around it.

use super::super::page::ListMeta;
use super::{KindStatus, Sink, SyncState};
use kube::api::ListParams;
use kube::core::Request;
use serde_json::value::RawValue;

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
    use futures::AsyncReadExt;
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
        body.read_to_end(&mut buf).await.map_err(|e| kube::Error::Service(Box::new(e)))?;
        Ok(buf)
    })))
}

/// Lists page by page. Each page's items stay borrowed from its body text (no copy per
/// item), and the request for the next page goes out before this page decodes, so the
/// server and the transport work while the items are decoded.
pub(super) async fn list(
    client: &kube::Client,
    req: &Request,
    refl: &KindStatus,
    sink: &dyn Sink,
    bump: &impl Fn(),
) -> Result<String, kube::Error> {
    let mut loaded = 0usize;
    let first_listing = matches!(refl.state(), SyncState::Listing { .. });
    let mut pending = fetch_page(client, req, None, Vec::new())?;
    let mut spare = Vec::new();
    loop {
        let text = (&mut pending.0).await.map_err(|e| kube::Error::Service(Box::new(e)))??;
        let mut next: Option<Result<Prefetch, kube::Error>> = None;
        let mut on_meta = |m: &ListMeta| {
            if let Some(c) = m.next() {
                next = Some(fetch_page(client, req, Some(c), std::mem::take(&mut spare)));
            }
        };
        let meta = match sink.list_text(&text, &mut on_meta) {
            Some((meta, n)) => {
                loaded += n;
                meta
            }
            None => {
                let page: RawList = serde_json::from_slice(&text).map_err(kube::Error::SerdeError)?;
                if let (None, Some(c)) = (&next, page.metadata.next()) {
                    next = Some(fetch_page(client, req, Some(c), std::mem::take(&mut spare)));
                }
                loaded += page.items.len();
                for w in sink.list_page(&page.items) {
                    refl.warn(w);
                }
                page.metadata
            }
        };
        let cont = meta.next().is_some();
        spare = text;
        if let Some(n) = next {
            pending = n?;
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
