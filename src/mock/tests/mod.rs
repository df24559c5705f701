//! End-to-end tests: each starts the mock on 127.0.0.1:0 inside the test's runtime and talks to it over real HTTP
//! with reqwest, checking the bytes a gateway would see. Helpers live here; the scenarios are split by concern.

mod anthropic_api;
mod faults;
mod openai_api;
mod output_length;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::Value;

use crate::mock::{serve, MockOptions};

pub(super) struct Mock {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
}

pub(super) async fn start(options: MockOptions) -> Mock {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        serve(listener, options).await.expect("serve");
    });
    Mock {
        addr,
        client: reqwest::Client::new(),
    }
}

pub(super) async fn start_default() -> Mock {
    start(MockOptions::default()).await
}

impl Mock {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs `body` to `path` with the given headers.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("send")
    }

    /// An Anthropic request with a valid key.
    pub async fn anthropic(&self, body: &Value, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut headers = vec![("x-api-key", "test-key"), ("anthropic-version", "2023-06-01")];
        headers.extend_from_slice(extra);
        self.post("/v1/messages", &headers, body.to_string()).await
    }

    /// An OpenAI request with a valid key.
    pub async fn openai(&self, body: &Value, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut headers = vec![("authorization", "Bearer test-key")];
        headers.extend_from_slice(extra);
        self.post("/v1/chat/completions", &headers, body.to_string()).await
    }

    pub async fn stats(&self) -> (u64, u64) {
        let stats: Value = reqwest::get(self.url("/mock/stats"))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json");
        (
            stats["connections"].as_u64().expect("connections"),
            stats["requests"].as_u64().expect("requests"),
        )
    }
}

pub(super) fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// An SSE body as (event name, data) pairs.
pub(super) fn parse_sse(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| {
            let mut name = None;
            let mut data = String::new();
            for line in event.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            (name, data)
        })
        .collect()
}

/// The data of every SSE event that is JSON.
pub(super) fn sse_json(text: &str) -> Vec<Value> {
    parse_sse(text)
        .iter()
        .filter_map(|(_, data)| serde_json::from_str(data).ok())
        .collect()
}

/// Reads a body chunk by chunk until it ends or fails; returns what arrived and whether it ended cleanly.
pub(super) async fn read_until_error(mut response: reqwest::Response) -> (String, bool) {
    let mut got = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

/// The captured Claude Code requests, kept in the repository (`tests/fixtures/README.md`).
pub(crate) fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/claude-code"))
}
