//! The paged initial list of one kind: pages fetched ahead of decoding into reused buffers,
//! the next requested as soon as the current one's continue token arrives, and decoded two
//! at a time, in one pass where the sink can, into the sink's staging area. It does not
//! watch; `watch.rs` owns the loop around it.

use super::super::page::{self, ListMeta};
use super::{KindStatus, Sink, SyncState};
use kube::api::ListParams;
use kube::core::Request;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

#[derive(serde::Deserialize)]
struct RawList<'a> {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

/// Objects per list page.
const PAGE: u32 = 500;

/// Pages held at once: being fetched, fetched and waiting, or decoding.
const AHEAD: usize = 3;

/// Pages decoding at once. Decoding is most of a list's CPU; with two under way neither core
/// idles while the other waits on the wire or the server.
const DECODING: usize = 2;

/// Bytes of a body searched for its list metadata before the decode is left to find it.
const PREFIX: usize = 64 * 1024;

/// Aborts a spawned page fetch when the list gives up (an error, or its task dropped).
struct Prefetch(tokio::task::JoinHandle<Result<Vec<u8>, kube::Error>>);

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where a page's continue token goes. The fetch reads it off the first bytes of the body,
/// or else the decode finds it; whichever is first sends it. `None`: this is the last page.
#[derive(Clone)]
struct Token(Arc<Mutex<Option<oneshot::Sender<Option<String>>>>>);

impl Token {
    fn new() -> (Token, oneshot::Receiver<Option<String>>) {
        let (tx, rx) = oneshot::channel();
        (Token(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    fn send(&self, meta: &ListMeta) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(meta.next().map(str::to_owned));
        }
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
    token: Token,
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
        let mut told = false;
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
            // The API server writes the list metadata ahead of the items: the next page can
            // be requested while the rest of this one is still arriving.
            if !told {
                if let Some(meta) = page::meta_prefix(&buf) {
                    token.send(&meta);
                    told = true;
                }
                told |= buf.len() > PREFIX;
            }
        }
    })))
}

/// Lists page by page. The next page is requested as soon as this one's continue token is
/// known, up to two pages decode at once, and each page's items stay borrowed from its body
/// text (no copy per item), so the server, the transport and both cores work at once.
pub(super) async fn list(
    client: &kube::Client,
    req: &Request,
    refl: &KindStatus,
    sink: &Arc<dyn Sink>,
    bump: &impl Fn(),
) -> Result<String, kube::Error> {
    sink.list_start();
    let mut decoding = VecDeque::new();
    let out = pages(client, req, refl, sink, bump, &mut decoding).await;
    if out.is_err() {
        // A decode cannot be cancelled; let those under way finish before the next list
        // starts, so none of this list's objects reach that one's staging area.
        for d in decoding {
            let _ = d.await;
        }
    }
    out
}

async fn pages(
    client: &kube::Client,
    req: &Request,
    refl: &KindStatus,
    sink: &Arc<dyn Sink>,
    bump: &impl Fn(),
    decoding: &mut VecDeque<tokio::task::JoinHandle<Decoded>>,
) -> Result<String, kube::Error> {
    let service = |e: tokio::task::JoinError| kube::Error::Service(Box::new(e));
    let first_listing = matches!(refl.state(), SyncState::Listing { .. });
    let mut loaded = 0usize;
    let mut spares: Vec<Vec<u8>> = Vec::new();
    let mut fetching: VecDeque<(Prefetch, Token)> = VecDeque::new();
    let mut fetched: VecDeque<(Vec<u8>, Token)> = VecDeque::new();
    // The continue token of the next page to request, once known (`Some(None)`: the first).
    let mut next: Option<Option<String>> = Some(None);
    let mut next_rx: Option<oneshot::Receiver<Option<String>>> = None;
    let mut more = true;
    let mut rv = String::new();
    loop {
        if more
            && fetching.len() + fetched.len() + decoding.len() < AHEAD
            && let Some(cont) = next.take()
        {
            let (token, rx) = Token::new();
            let buf = spares.pop().unwrap_or_default();
            fetching.push_back((fetch_page(client, req, cont.as_deref(), buf, token.clone())?, token));
            next_rx = Some(rx);
        }
        while decoding.len() < DECODING {
            let Some((text, token)) = fetched.pop_front() else { break };
            let s = sink.clone();
            // Off the runtime's workers: decoding a page takes milliseconds of CPU.
            decoding.push_back(tokio::task::spawn_blocking(move || decode_page(s.as_ref(), text, &token)));
        }
        if !more && fetching.is_empty() && fetched.is_empty() && decoding.is_empty() {
            sink.list_done();
            refl.set_state(SyncState::Synced);
            bump();
            return Ok(rv);
        }
        tokio::select! {
            token = async { next_rx.as_mut().expect("guarded").await }, if next_rx.is_some() => {
                next_rx = None;
                match token {
                    Ok(Some(c)) => next = Some(Some(c)),
                    // The last page; or one whose decode failed, which reports why below.
                    Ok(None) | Err(_) => more = false,
                }
            }
            text = async { (&mut fetching.front_mut().expect("guarded").0.0).await }, if !fetching.is_empty() => {
                let (_, token) = fetching.pop_front().expect("guarded");
                fetched.push_back((text.map_err(service)??, token));
            }
            page = async { decoding.front_mut().expect("guarded").await }, if !decoding.is_empty() => {
                decoding.pop_front();
                let page = page.map_err(service)?;
                spares.push(page.text);
                let (meta, n, warnings) = page.decoded.map_err(kube::Error::SerdeError)?;
                loaded += n;
                for w in warnings {
                    refl.warn(w);
                }
                rv = meta.resource_version.unwrap_or_default();
                if first_listing {
                    refl.set_state(SyncState::Listing { loaded });
                    bump();
                }
            }
        }
    }
}

struct Decoded {
    /// The page's buffer, handed back for reuse.
    text: Vec<u8>,
    decoded: Result<(ListMeta, usize, Vec<String>), serde_json::Error>,
}

/// One page into the sink: in one pass where the sink can, else item by item with warnings
/// that name what could not be read. Sends the page's continue token unless the fetch has.
fn decode_page(sink: &dyn Sink, text: Vec<u8>, token: &Token) -> Decoded {
    let fast = sink.list_text(&text, &mut |m: &ListMeta| token.send(m));
    let decoded = match fast {
        Some((meta, n)) => Ok((meta, n, Vec::new())),
        None => serde_json::from_slice::<RawList>(&text).map(|page| {
            token.send(&page.metadata);
            let warnings = sink.list_page(&page.items);
            (page.metadata, page.items.len(), warnings)
        }),
    };
    Decoded { text, decoded }
}
