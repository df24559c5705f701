//! Deterministic identifiers. The mock must give the same reply to the same request, so every id, signature and
//! timestamp in a reply is derived from a hash of the request body rather than from a clock or a random source;
//! they still look like the real providers' ids (`msg_01…`, `toolu_01…`, `chatcmpl-…`, `call_…`) so that code which
//! pattern-matches ids behaves as it would against the real APIs. The hash is our own word-at-a-time mix, stable
//! across runs, platforms and Rust versions.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// A 64-bit hash of a request body, processed eight bytes at a time so that hashing a megabyte body stays cheap.
pub(crate) fn body_seed(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ (bytes.len() as u64);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(GOLDEN).rotate_left(29);
    }
    let rest = words.remainder();
    let mut tail = [0u8; 8];
    tail[..rest.len()].copy_from_slice(rest);
    mix(h ^ u64::from_le_bytes(tail))
}

/// The splitmix64 finalizer: spreads every input bit over the whole output.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An endless sequence of pseudo-random words seeded by (seed, salt); different salts give unrelated sequences.
struct Sequence(u64);

impl Sequence {
    fn new(seed: u64, salt: u64) -> Self {
        Sequence(mix(seed ^ salt.wrapping_mul(GOLDEN)))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }
}

fn with_base62(prefix: &str, seed: u64, salt: u64, len: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    let mut seq = Sequence::new(seed, salt);
    for _ in 0..len {
        out.push(char::from(BASE62[(seq.next() % 62) as usize]));
    }
    out
}

/// `msg_01` + 22 base62 characters, as Anthropic message ids look.
pub(crate) fn anthropic_message_id(seed: u64) -> String {
    with_base62("msg_01", seed, 1, 22)
}

/// `toolu_01` + 22 base62 characters, as Anthropic tool-use ids look.
pub(crate) fn anthropic_tool_id(seed: u64) -> String {
    with_base62("toolu_01", seed, 2, 22)
}

/// The seed for the `n`-th of several ids of one kind in a reply (parallel tool calls): the reply's own seed
/// for the first, so a reply with one call keeps the ids it always had.
pub(crate) fn nth(seed: u64, n: usize) -> u64 {
    if n == 0 {
        seed
    } else {
        mix(seed ^ (n as u64).wrapping_mul(GOLDEN))
    }
}

/// `chatcmpl-` + 29 base62 characters, as OpenAI completion ids look.
pub(crate) fn openai_completion_id(seed: u64) -> String {
    with_base62("chatcmpl-", seed, 3, 29)
}

/// `call_` + 24 base62 characters, as OpenAI tool-call ids look.
pub(crate) fn openai_call_id(seed: u64) -> String {
    with_base62("call_", seed, 4, 24)
}

/// `prefix` + 50 lowercase hex digits, as the Responses API's ids look (`resp_…`, `msg_…`, `fc_…`, `rs_…`);
/// `salt` keeps the ids of one reply distinct.
pub(crate) fn responses_id(prefix: &str, seed: u64, salt: u64) -> String {
    let mut seq = Sequence::new(seed, 100 + salt);
    let mut out = String::with_capacity(prefix.len() + 50);
    out.push_str(prefix);
    while out.len() < prefix.len() + 50 {
        out.push_str(&format!("{:016x}", seq.next()));
    }
    out.truncate(prefix.len() + 50);
    out
}

/// Opaque `encrypted_content` for a reasoning item, shaped like OpenAI's (a Fernet token: `gAAAAA…`).
pub(crate) fn encrypted_reasoning(seed: u64) -> String {
    format!("gAAAAAB{}", thinking_signature(seed ^ 0x5EED))
}

/// A Unix timestamp for OpenAI's `created`, derived from the body so that replies stay byte-identical.
pub(crate) fn created(seed: u64) -> u64 {
    1_750_000_000 + Sequence::new(seed, 5).next() % 10_000_000
}

/// A thinking-block signature: 96 pseudo-random bytes in standard base64 (128 characters), like the opaque
/// signatures Anthropic returns.
pub(crate) fn thinking_signature(seed: u64) -> String {
    let mut seq = Sequence::new(seed, 6);
    let mut out = String::with_capacity(128);
    for _ in 0..32 {
        // Each word gives three bytes, i.e. four base64 characters.
        let w = seq.next();
        for shift in [18u32, 12, 6, 0] {
            out.push(char::from(BASE64[((w >> shift) & 63) as usize]));
        }
    }
    out
}

/// Anthropic's `request-id` header: `req_011C` + 20 base62 characters, unique per request served.
pub(crate) fn anthropic_request_id(serial: u64) -> String {
    with_base62("req_011C", serial, 7, 20)
}

/// OpenAI's `x-request-id` header: `req_` + 32 lowercase hex digits, unique per request served.
pub(crate) fn openai_request_id(serial: u64) -> String {
    let mut seq = Sequence::new(serial, 8);
    format!("req_{:016x}{:016x}", seq.next(), seq.next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_base62(s: &str) -> bool {
        s.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    #[test]
    fn ids_have_the_real_shapes() {
        let seed = body_seed(br#"{"model":"m"}"#);
        let msg = anthropic_message_id(seed);
        assert!(
            msg.starts_with("msg_01") && msg.len() == 6 + 22 && is_base62(&msg[4..]),
            "{msg}"
        );
        let tool = anthropic_tool_id(seed);
        assert!(
            tool.starts_with("toolu_01") && tool.len() == 8 + 22 && is_base62(&tool[6..]),
            "{tool}"
        );
        let cmpl = openai_completion_id(seed);
        assert!(
            cmpl.starts_with("chatcmpl-") && cmpl.len() == 9 + 29 && is_base62(&cmpl[9..]),
            "{cmpl}"
        );
        let call = openai_call_id(seed);
        assert!(
            call.starts_with("call_") && call.len() == 5 + 24 && is_base62(&call[5..]),
            "{call}"
        );
        let sig = thinking_signature(seed);
        assert_eq!(sig.len(), 128);
        assert!(sig.bytes().all(|b| BASE64.contains(&b)));
        let req = anthropic_request_id(1);
        assert!(req.starts_with("req_011C") && req.len() == 28);
        let oreq = openai_request_id(1);
        assert!(oreq.starts_with("req_") && oreq.len() == 36);
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = body_seed(b"same body");
        assert_eq!(a, body_seed(b"same body"));
        assert_eq!(anthropic_message_id(a), anthropic_message_id(body_seed(b"same body")));
        assert_ne!(a, body_seed(b"same bodY"));
        assert_ne!(body_seed(b""), body_seed(b"\0"));
        assert_ne!(body_seed(b"12345678"), body_seed(b"12345678\0"));
        assert_ne!(anthropic_message_id(a), anthropic_message_id(a ^ 1));
        assert_ne!(anthropic_request_id(1), anthropic_request_id(2));
        let c = created(a);
        assert!((1_750_000_000..1_760_000_000).contains(&c));
    }
}
