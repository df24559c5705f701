//! Injected failures. A gateway earns its keep when the upstream misbehaves, so tests need an upstream that fails
//! on demand in every way a real provider (or the network in front of it) does: error statuses, rate limits,
//! silence, slow or cut streams, bodies that are not what they claim. A fault is chosen per request with the
//! `x-mock-fault` header or for the whole instance with `MockOptions::fault`; both use the syntax parsed here.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One way for the mock to misbehave. `Fault::from_str` reads the same syntax as the `x-mock-fault` header and
/// `Display` writes it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `status:<code>` — answer with this 4xx/5xx status and an error body in the API's own format
    /// (`api_error` / `server_error` for 5xx).
    Status(u16),
    /// `overloaded` — 529 with Anthropic's `overloaded_error`; 503 on OpenAI paths.
    Overloaded,
    /// `rate_limit:<secs>` — 429 with `retry-after: <secs>` and the API's rate-limit error.
    RateLimit(u64),
    /// `unauthorized` — 401 with the API's authentication error, whatever key was sent.
    Unauthorized,
    /// `hang` — read the request and never answer; the connection is held until the client goes away.
    Hang,
    /// `hang_body` — send the 200 response headers of the real reply, then no body at all.
    HangBody,
    /// `drip:<ms>` — the real reply, with this pause between SSE events (or between pieces of a JSON body).
    Drip(Duration),
    /// `cut:<n>` — send the first n SSE events (or n pieces of a JSON body), then drop the connection with no
    /// clean end of the body.
    Cut(usize),
    /// `malformed` — 200 `application/json` whose body is the real reply cut off halfway.
    Malformed,
    /// `wrong_content_type` — 200 `text/html` with an HTML page instead of the API reply.
    WrongContentType,
    /// `close` — close the TCP connection without sending any response.
    Close,
}

/// Why a fault string did not parse; the message lists the valid syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFaultError(String);

const SYNTAX: &str = "expected one of status:<400-599>, overloaded, rate_limit:<secs>, unauthorized, hang, \
                      hang_body, drip:<ms>, cut:<n>, malformed, wrong_content_type, close";

impl fmt::Display for ParseFaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid mock fault {:?}: {SYNTAX}", self.0)
    }
}

impl std::error::Error for ParseFaultError {}

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let bad = || ParseFaultError(text.to_owned());
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name.trim(), Some(arg.trim())),
            None => (text, None),
        };
        let number = |arg: Option<&str>| arg.and_then(|a| a.parse::<u64>().ok()).ok_or_else(bad);
        let fault = match (name.to_ascii_lowercase().as_str(), arg) {
            ("status", a) => match u16::try_from(number(a)?) {
                Ok(code @ 400..=599) => Fault::Status(code),
                _ => return Err(bad()),
            },
            ("rate_limit", a) => Fault::RateLimit(number(a)?),
            ("drip", a) => Fault::Drip(Duration::from_millis(number(a)?)),
            ("cut", a) => Fault::Cut(usize::try_from(number(a)?).map_err(|_| bad())?),
            ("overloaded", None) => Fault::Overloaded,
            ("unauthorized", None) => Fault::Unauthorized,
            ("hang", None) => Fault::Hang,
            ("hang_body", None) => Fault::HangBody,
            ("malformed", None) => Fault::Malformed,
            ("wrong_content_type", None) => Fault::WrongContentType,
            ("close", None) => Fault::Close,
            _ => return Err(bad()),
        };
        Ok(fault)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(code) => write!(f, "status:{code}"),
            Fault::Overloaded => f.write_str("overloaded"),
            Fault::RateLimit(secs) => write!(f, "rate_limit:{secs}"),
            Fault::Unauthorized => f.write_str("unauthorized"),
            Fault::Hang => f.write_str("hang"),
            Fault::HangBody => f.write_str("hang_body"),
            Fault::Drip(pause) => write!(f, "drip:{}", pause.as_millis()),
            Fault::Cut(events) => write!(f, "cut:{events}"),
            Fault::Malformed => f.write_str("malformed"),
            Fault::WrongContentType => f.write_str("wrong_content_type"),
            Fault::Close => f.write_str("close"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault_and_round_trips() {
        let cases = [
            ("status:500", Fault::Status(500)),
            ("status:502", Fault::Status(502)),
            ("status:503", Fault::Status(503)),
            ("overloaded", Fault::Overloaded),
            ("rate_limit:7", Fault::RateLimit(7)),
            ("unauthorized", Fault::Unauthorized),
            ("hang", Fault::Hang),
            ("hang_body", Fault::HangBody),
            ("drip:25", Fault::Drip(Duration::from_millis(25))),
            ("cut:3", Fault::Cut(3)),
            ("malformed", Fault::Malformed),
            ("wrong_content_type", Fault::WrongContentType),
            ("close", Fault::Close),
        ];
        for (text, fault) in cases {
            assert_eq!(text.parse::<Fault>(), Ok(fault.clone()), "{text}");
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(" Status : 429 ".parse::<Fault>(), Ok(Fault::Status(429)));
        assert_eq!("CLOSE".parse::<Fault>(), Ok(Fault::Close));
    }

    #[test]
    fn rejects_bad_syntax_with_a_helpful_message() {
        for text in [
            "",
            "status",
            "status:200",
            "status:600",
            "status:x",
            "rate_limit",
            "drip:-1",
            "cut:",
            "hang:1",
            "explode",
            "close:now",
        ] {
            let err = text.parse::<Fault>().err();
            assert!(err.is_some(), "{text:?} should not parse");
            let message = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("rate_limit:<secs>"), "{message}");
        }
    }
}
