//! The upstream request's header policy: what the client sent that must not travel on
//! (its team key, cookies, hop-by-hop headers), and what the provider needs instead (its own
//! key, its Host, the exact body length, `x-request-id`).

use pingora_error::Result;
use pingora_http::RequestHeader;

use crate::api::ApiFormat;
use crate::auth::credential::{ClientCredential, Shape, OAUTH_BETA};
use crate::secret::Secret;
use crate::upstream::UpstreamProvider;

/// Client headers never forwarded: credentials, and hop-by-hop headers of this connection.
const STRIPPED: &[&str] = &[
    "x-api-key",
    "x-switchyard-key",
    "authorization",
    "proxy-authorization",
    "cookie",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    // The gateway reads (and will account) response bodies, so they must arrive uncompressed.
    "accept-encoding",
    "content-length",
    "host",
];

pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Whose credential the upstream request carries.
pub enum UpstreamAuth<'a> {
    /// The gateway's key for this provider.
    Gateway(&'a Secret),
    /// The client's own provider credential (explicit pass-through policy).
    Client(&'a ClientCredential),
    /// None (e.g. a local server that needs no key).
    None,
}

/// Rewrites `req` in place for `upstream`, which speaks `wire`.
pub fn prepare(
    req: &mut RequestHeader,
    upstream: &UpstreamProvider,
    wire: ApiFormat,
    auth: UpstreamAuth<'_>,
    body_len: usize,
    request_id: &str,
) -> Result<()> {
    for name in STRIPPED {
        req.remove_header(*name);
    }
    match wire {
        ApiFormat::Anthropic => {
            req.remove_header("openai-organization");
            req.remove_header("openai-project");
        }
        ApiFormat::OpenAi => {
            let anthropic: Vec<http::HeaderName> =
                req.headers.keys().filter(|name| name.as_str().starts_with("anthropic-")).cloned().collect();
            for name in anthropic {
                req.remove_header(&name);
            }
        }
    }
    req.insert_header(http::header::HOST, upstream.host_header.as_str())?;
    req.insert_header(http::header::CONTENT_LENGTH, body_len.to_string())?;
    req.insert_header("x-request-id", request_id)?;
    match auth {
        UpstreamAuth::Gateway(key) => match wire {
            ApiFormat::Anthropic => req.insert_header("x-api-key", key.expose())?,
            ApiFormat::OpenAi => req.insert_header(http::header::AUTHORIZATION, format!("Bearer {}", key.expose()))?,
        },
        UpstreamAuth::Client(credential) => match credential.shape {
            Shape::AnthropicApiKey => req.insert_header("x-api-key", credential.value.expose())?,
            Shape::AnthropicOAuth => {
                req.insert_header(http::header::AUTHORIZATION, format!("Bearer {}", credential.value.expose()))?;
                ensure_beta(req, OAUTH_BETA)?;
            }
            Shape::OpenRouter | Shape::OpenAi => req.insert_header(http::header::AUTHORIZATION, format!("Bearer {}", credential.value.expose()))?,
        },
        UpstreamAuth::None => {}
    }
    if wire == ApiFormat::Anthropic && !req.headers.contains_key("anthropic-version") {
        req.insert_header("anthropic-version", ANTHROPIC_VERSION)?;
    }
    for (name, value) in &upstream.provider.extra_headers {
        req.insert_header(name.clone(), value.as_str())?;
    }
    Ok(())
}

/// Adds `flag` to `anthropic-beta` unless the client already listed it.
fn ensure_beta(req: &mut RequestHeader, flag: &str) -> Result<()> {
    let current = req.headers.get("anthropic-beta").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if current.split(',').any(|f| f.trim() == flag) {
        return Ok(());
    }
    let value = if current.trim().is_empty() { flag.to_string() } else { format!("{current},{flag}") };
    req.insert_header("anthropic-beta", value)
}
