//! The Rust peers of `make bench`: the core library (`--peer core`) and a raw
//! reqwest loop sending the same requests with no library logic (`--peer
//! raw`, the floor); `--peer hyper` sends them through hyper's own pooled
//! client, the layer under reqwest (what any client over hyper costs at
//! least). Prints one JSON object: bulk throughput, the process's CPU time
//! per create over the bulk run, and latency. They run on tokio's default
//! multi-thread runtime, the shape of a `#[tokio::main]` program;
//! `--current-thread` runs one on a single thread instead, the shape every
//! request of a JavaScript client takes.

use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeVal;
use serde_json::json;
use wayfinder_tokens::fleet::{RotateOptions, TokenRef};
use wayfinder_tokens::{Client, ClientOptions, CreateOptions, DEFAULT_API_GROUP_VERSION, Secret};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Peer {
    Core,
    Raw,
    Hyper,
}

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum)]
    peer: Peer,
    #[arg(long)]
    url: String,
    #[arg(long)]
    token: String,
    /// Prefix of the token names, unique per run.
    #[arg(long)]
    prefix: String,
    #[arg(long, default_value_t = 1000)]
    count: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 20)]
    workspaces: usize,
    /// Untimed creates at the same concurrency before the timed bulk part,
    /// so CPU per create is the steady state of every peer alike.
    #[arg(long, default_value_t = 0)]
    warmup: usize,
    /// Sequential creates timed one by one.
    #[arg(long, default_value_t = 500)]
    latency: usize,
    /// Instead: create this many tokens, then time rotating them all with
    /// `rotate_workspace_access_tokens` and with a hand-written loop of
    /// single resets at the same concurrency (8).
    #[arg(long)]
    rotate: Option<usize>,
    /// Trust this CA (PEM file) for an HTTPS server.
    #[arg(long)]
    ca: Option<std::path::PathBuf>,
    /// Run on a current-thread runtime: every request on one thread.
    #[arg(long)]
    current_thread: bool,
    /// Instead: resident memory after every tenth of this many creates.
    #[arg(long)]
    memory: Option<usize>,
}

/// CPU time (user + system) this process has used so far.
fn cpu_time() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_SELF).unwrap_or_else(|e| panic!("getrusage: {e}"));
    let micros = |t: TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Duration::from_micros(micros(usage.user_time()) + micros(usage.system_time()))
}

/// Resident memory in MB.
fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

/// hyper's pooled client: HTTP/1.1 in the clear, HTTP/2 when TLS negotiates it (as reqwest).
type Hyper = HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// One create + issue, through the library or by hand.
enum Creator {
    Core(Client),
    Raw(reqwest::Client, String, String),
    Hyper(Box<Hyper>, String, String),
}

impl Creator {
    async fn create(&self, name: &str, workspace: &str) {
        match self {
            Creator::Core(client) => {
                client
                    .create_workspace_access_token(name, Some(workspace), &CreateOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("create {name}: {e}"));
            }
            Creator::Raw(http, url, token) => {
                let (collection, object) = create_request(url, name, workspace);
                let created = http.post(&collection).bearer_auth(token).json(&object).send().await;
                let created = created.unwrap_or_else(|e| panic!("create {name}: {e}"));
                assert!(created.status().is_success(), "create {name}: {}", created.status());
                let _: serde_json::Value = created.json().await.unwrap_or_default();
                let issued = http
                    .post(format!("{collection}/{name}/token"))
                    .bearer_auth(token)
                    .send()
                    .await;
                let issued = issued.unwrap_or_else(|e| panic!("issue {name}: {e}"));
                assert!(issued.status().is_success(), "issue {name}: {}", issued.status());
                let body: serde_json::Value = issued.json().await.unwrap_or_default();
                assert!(body["token"].is_string());
            }
            Creator::Hyper(http, url, token) => {
                let (collection, object) = create_request(url, name, workspace);
                let body = Bytes::from(serde_json::to_vec(&object).unwrap_or_default());
                hyper_post(http, &collection, token, body).await;
                let issued = hyper_post(http, &format!("{collection}/{name}/token"), token, Bytes::new()).await;
                assert!(issued["token"].is_string());
            }
        }
    }
}

/// The collection URL and the object of one create, as both hand-written peers send them.
fn create_request(url: &str, name: &str, workspace: &str) -> (String, serde_json::Value) {
    let collection =
        format!("{url}/resources/{DEFAULT_API_GROUP_VERSION}/workspaces/{workspace}/workspaceaccesstokens");
    let object = json!({
        "apiVersion": DEFAULT_API_GROUP_VERSION, "kind": "WorkspaceAccessToken",
        "metadata": {"name": name, "namespace": format!("ws-{workspace}")}, "spec": {},
    });
    (collection, object)
}

/// One POST through hyper: the answer's JSON, read whole.
async fn hyper_post(http: &Hyper, url: &str, token: &str, body: Bytes) -> serde_json::Value {
    let request = hyper::Request::post(url)
        .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .unwrap_or_else(|e| panic!("request {url}: {e}"));
    let response = http
        .request(request)
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    assert!(response.status().is_success(), "POST {url}: {}", response.status());
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap_or_default()
}

/// Rotate-all: the batch call against a loop of single resets, same tokens, same concurrency.
async fn rotate(client: &Client, creator: &Creator, args: &Args, count: usize) {
    const CONCURRENCY: usize = 8;
    let targets: Vec<TokenRef> = (0..count)
        .map(|i| TokenRef {
            workspace: format!("ws{}", i % args.workspaces),
            name: format!("{}-r{i}", args.prefix),
        })
        .collect();
    futures::stream::iter(&targets)
        .map(|t| creator.create(&t.name, &t.workspace))
        .buffer_unordered(args.concurrency)
        .collect::<Vec<()>>()
        .await;
    let options = RotateOptions {
        concurrency: Some(CONCURRENCY),
        dry_run: false,
    };
    let started = Instant::now();
    let report = client
        .rotate_workspace_access_tokens(&targets, &options, &wayfinder_tokens::fleet::RotateHooks::default())
        .await
        .unwrap_or_else(|e| panic!("rotate: {e}"));
    let batch = started.elapsed();
    assert_eq!(report.rotated.len(), count, "every token rotates");
    let started = Instant::now();
    futures::stream::iter(&targets)
        .map(|t| async move {
            client
                .reset_workspace_access_token(&t.name, Some(&t.workspace))
                .await
                .unwrap_or_else(|e| panic!("reset {}: {e}", t.name));
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    let single = started.elapsed();
    let out = json!({
        "tokens": count,
        "concurrency": CONCURRENCY,
        "batch_per_s": count as f64 / batch.as_secs_f64(),
        "loop_of_resets_per_s": count as f64 / single.as_secs_f64(),
    });
    println!("{out}");
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// `count` creates by `concurrency` at a time; the rate.
async fn bulk(creator: &Creator, prefix: &str, count: usize, args: &Args) -> f64 {
    let started = Instant::now();
    futures::stream::iter(0..count)
        .map(|i| {
            let name = format!("{prefix}-b{i}");
            let workspace = format!("ws{}", i % args.workspaces);
            async move { creator.create(&name, &workspace).await }
        })
        .buffer_unordered(args.concurrency)
        .collect::<Vec<()>>()
        .await;
    count as f64 / started.elapsed().as_secs_f64()
}

fn creator(args: &Args) -> Creator {
    let pem = args
        .ca
        .as_ref()
        .map(|path| std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    match args.peer {
        Peer::Core => Creator::Core(
            Client::new(&ClientOptions {
                server: Some(args.url.clone()),
                token: Some(Secret::new(args.token.clone())),
                ca_certificate: pem,
                ..ClientOptions::default()
            })
            .unwrap_or_else(|e| panic!("client: {e}")),
        ),
        Peer::Raw => {
            let mut builder = reqwest::Client::builder();
            if let Some(pem) = pem {
                let ca = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap_or_else(|e| panic!("CA: {e}"));
                builder = builder.tls_certs_only([ca]);
            }
            let http = builder.build().unwrap_or_else(|e| panic!("reqwest: {e}"));
            Creator::Raw(http, args.url.clone(), args.token.clone())
        }
        Peer::Hyper => Creator::Hyper(
            Box::new(hyper_client(pem.as_deref())),
            args.url.clone(),
            args.token.clone(),
        ),
    }
}

/// hyper's client trusting only `ca_pem` (when given), with the TLS setup reqwest uses: rustls on
/// aws-lc-rs, ALPN offering HTTP/2 and HTTP/1.1.
fn hyper_client(ca_pem: Option<&str>) -> Hyper {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem.unwrap_or_default().as_bytes()) {
        roots
            .add(certificate.unwrap_or_else(|e| panic!("CA: {e}")))
            .unwrap_or_else(|e| panic!("CA: {e}"));
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("TLS: {e}"))
        .with_root_certificates(roots)
        .with_no_client_auth();
    // As reqwest does: no Nagle delay (it held HTTP/2 frames for a delayed ACK, 40 ms a request).
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(tcp);
    HyperClient::builder(TokioExecutor::new()).build(connector)
}

fn main() {
    let args = Args::parse();
    let runtime = if args.current_thread {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    };
    runtime
        .unwrap_or_else(|e| panic!("runtime: {e}"))
        .block_on(measure(args));
}

async fn measure(args: Args) {
    let creator = creator(&args);
    // Warm up: connections, discovery.
    creator.create(&format!("{}-warm", args.prefix), "ws0").await;
    if let (Some(count), Creator::Core(client)) = (args.rotate, &creator) {
        return rotate(client, &creator, &args, count).await;
    }

    if let Some(count) = args.memory {
        // After the first tenth (warm-up), then at each further tenth.
        let step = (count / 10).max(1);
        let mut checkpoints = Vec::new();
        for n in 0..10 {
            bulk(&creator, &format!("{}-{n}", args.prefix), step, &args).await;
            checkpoints.push((rss_mb() * 100.0).round() / 100.0);
        }
        println!("{}", json!({ "rss_mb_checkpoints": checkpoints }));
        return;
    }
    if args.warmup > 0 {
        bulk(&creator, &format!("{}-w", args.prefix), args.warmup, &args).await;
    }
    let cpu = cpu_time();
    let bulk_per_s = bulk(&creator, &args.prefix, args.count, &args).await;
    let cpu_us_per_create = (cpu_time() - cpu).as_secs_f64() * 1e6 / args.count as f64;

    let mut latencies = Vec::with_capacity(args.latency);
    for i in 0..args.latency {
        let started = Instant::now();
        creator.create(&format!("{}-l{i}", args.prefix), "latency").await;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let out = json!({
        "bulk_per_s": bulk_per_s,
        "cpu_us_per_create": cpu_us_per_create,
        "latency_ms": {"p50": percentile(&latencies, 0.5), "p99": percentile(&latencies, 0.99)},
    });
    println!("{out}");
}
