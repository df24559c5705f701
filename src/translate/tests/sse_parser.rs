//! The shared SSE parser on its own.

use crate::translate::sse::{SseEvent, SseParser};

/// An event with its borrowed text copied out, to compare after the parser moved on.
pub(super) type Owned = (Option<String>, String);

pub(super) fn owned(e: SseEvent<'_>) -> Owned {
    (e.event.map(|n| n.into_owned()), e.data.into_owned())
}

fn parse_chunks(chunks: &[&[u8]]) -> Vec<Owned> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, |e| out.push(owned(e)));
    }
    p.finish(|e| out.push(owned(e)));
    out
}

fn ev(event: Option<&str>, data: &str) -> Owned {
    (event.map(str::to_owned), data.to_owned())
}

#[test]
fn named_events_multiline_data_and_comments() {
    let got = parse_chunks(&[
        b"\xEF\xBB\xBFevent: a\ndata: 1\ndata:2\n\n: comment\n\nid: 7\nretry: 5\ndata: x\n\n",
    ]);
    assert_eq!(got, [ev(Some("a"), "1\n2"), ev(None, "x")]);
}

#[test]
fn line_endings_crlf_cr_lf_even_when_split() {
    let got = parse_chunks(&[b"data: a\r", b"\n\r", b"\ndata: b\r\rdata: c\n", b"\n"]);
    assert_eq!(got, [ev(None, "a"), ev(None, "b"), ev(None, "c")]);
}

#[test]
fn crlf_split_between_cr_and_lf_does_not_end_the_event() {
    let got = parse_chunks(&[b"event: e\r", b"\ndata: 1\r", b"\ndata: 2\r\n\r\n"]);
    assert_eq!(got, [ev(Some("e"), "1\n2")]);
}

#[test]
fn utf8_split_inside_a_character() {
    let bytes = "data: héllo 🎉\n\n".as_bytes();
    let cut = bytes.iter().position(|b| *b == 0xF0).unwrap() + 2;
    assert_eq!(
        parse_chunks(&[&bytes[..cut], &bytes[cut..]]),
        [ev(None, "héllo 🎉")]
    );
}

#[test]
fn unterminated_last_event_is_flushed_at_finish() {
    assert_eq!(parse_chunks(&[b"data: [DONE]"]), [ev(None, "[DONE]")]);
    assert_eq!(parse_chunks(&[b"event: only-a-name\n\n"]), []);
}

#[test]
fn invalid_utf8_is_replaced_not_dropped() {
    assert_eq!(
        parse_chunks(&[b"data: a\xFF", b"\xC3\n\n"]),
        [ev(None, "a\u{FFFD}\u{FFFD}")]
    );
}
