//! Request ids: the client's own `x-request-id` when it is a sane token, else one of ours.
//!
//! Ours are a random per-process prefix and a counter, not a UUID per request: drawing from
//! the thread RNG and formatting a UUID was a measurable share of a small request's CPU, and
//! uniqueness across replicas only needs the 64 random bits of the prefix. The id is kept as
//! a `HeaderValue` because it goes out twice (upstream and to the client) and is cloned, not
//! re-validated, each time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use http::HeaderValue;

/// A request id, ready to be sent as a header value.
#[derive(Clone, Debug)]
pub struct RequestId(HeaderValue);

/// The longest client-supplied id taken as is.
const MAX_CLIENT_ID: usize = 128;

impl Default for RequestId {
    fn default() -> Self {
        RequestId(HeaderValue::from_static(""))
    }
}

impl RequestId {
    /// The client's `x-request-id` if it is 1–128 visible ASCII characters, else a fresh one.
    pub fn from_client_or_new(client: Option<&HeaderValue>) -> Self {
        match client {
            Some(v) if !v.is_empty() && v.len() <= MAX_CLIENT_ID && v.as_bytes().iter().all(u8::is_ascii_graphic) => RequestId(v.clone()),
            _ => Self::generate(),
        }
    }

    fn generate() -> Self {
        static PREFIX: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut text = [0u8; 4 + 32];
        text[..4].copy_from_slice(b"req_");
        hex(prefix, &mut text[4..20]);
        hex(n, &mut text[20..]);
        // Only ASCII hex digits and `req_`: always a valid header value.
        RequestId(HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static("req_unavailable")))
    }

    pub fn header(&self) -> &HeaderValue {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        // Both constructors only admit visible ASCII.
        self.0.to_str().unwrap_or_default()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hex(value: u64, out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let last = out.len().saturating_sub(1);
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 4 * (last - i);
        *slot = DIGITS[((value >> shift) & 0xf) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_shaped_like_before() {
        let a = RequestId::from_client_or_new(None);
        let b = RequestId::from_client_or_new(None);
        assert_ne!(a.as_str(), b.as_str());
        for id in [&a, &b] {
            assert_eq!(id.as_str().len(), 36, "{id}");
            assert!(id.as_str().starts_with("req_"), "{id}");
            assert!(id.as_str()[4..].bytes().all(|c| c.is_ascii_hexdigit()), "{id}");
        }
        assert_eq!(a.as_str()[..20], b.as_str()[..20], "one process, one prefix");
    }

    #[test]
    fn a_sane_client_id_is_kept_and_anything_else_replaced() {
        let keep = HeaderValue::from_static("trace-123_abc");
        assert_eq!(RequestId::from_client_or_new(Some(&keep)).as_str(), "trace-123_abc");
        for bad in [HeaderValue::from_static(""), HeaderValue::from_static("has space"), HeaderValue::from_str(&"x".repeat(129)).unwrap()] {
            assert!(RequestId::from_client_or_new(Some(&bad)).as_str().starts_with("req_"), "{bad:?}");
        }
        let non_ascii = HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
        assert!(RequestId::from_client_or_new(Some(&non_ascii)).as_str().starts_with("req_"));
    }

    #[test]
    fn hex_is_fixed_width() {
        let mut out = [0u8; 16];
        hex(0xab, &mut out);
        assert_eq!(&out, b"00000000000000ab");
    }
}
