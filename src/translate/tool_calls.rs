//! Assembling an OpenAI-compatible server's tool calls into whole calls in index order, whatever order their
//! pieces arrive in: Anthropic `tool_use` blocks (Chat → Anthropic) and Responses `function_call` items
//! (Chat → Responses) are both built from the [`Step`]s of one [`ToolCalls`].
//!
//! OpenAI-compatible servers stream parallel tool calls in several ways: one call after the other (OpenAI),
//! or every call's header (`index`, `id`, `name`) first and then argument fragments of different calls
//! interleaved (vLLM, llama.cpp and others); some send an empty or no `id`, some repeat `name` on every
//! fragment, some give every call `index` 0 with distinct ids. Anthropic's stream needs each block whole and
//! in order — `content_block_start`, its `input_json_delta`s, `content_block_stop` — and Claude Code parses a
//! tool's input when its block stops, so a fragment sent after the stop is lost to it. The Responses stream
//! is built the same way: `output_item.added`, `function_call_arguments.delta`s, `…arguments.done`,
//! `output_item.done`, one item after the other, as OpenAI's own API sends them.
//!
//! The rule: blocks follow the upstream `index` order (0, 1, 2…). The call whose turn it is streams live;
//! fragments of any other call are held until its turn. The open call ends — and the next one, with what
//! was held for it, begins — as soon as its arguments form a complete JSON object and another call is
//! waiting, or at the end of the message. A call is only opened once every lower index has been seen and
//! opened, so any interleaving of the same calls yields the same blocks. Ids the server did not give (or
//! gave twice) are generated (`toolu_…` or `call_…`, derived from the message id and the call's position); a
//! repeated `name` is ignored. The same assembler, fed a non-streaming response's `tool_calls` and finished
//! at once, gives the non-streaming content ([`whole_calls`]).

use serde_json::Value;

use crate::translate::chat_chunk::ToolPiece;
use crate::translate::ids::fallback_tool_id;

/// Most calls one message may make; fragments for further calls are dropped (with a warning).
const MAX_CALLS: usize = 1024;

/// One piece of a tool call as a server sends it: a streamed `tool_calls` delta entry, or an entry of a
/// non-streaming message's `tool_calls`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fragment<'a> {
    pub index: Option<u64>,
    /// Non-empty, when given.
    pub id: Option<&'a str>,
    /// Non-empty, when given.
    pub name: Option<&'a str>,
    pub arguments: &'a str,
    /// The fragment is a whole call of its own: an entry without `index` in a non-streaming body.
    pub whole: bool,
}

impl<'a> Fragment<'a> {
    /// A piece of a streamed delta.
    pub(crate) fn streamed(piece: &'a ToolPiece<'_>) -> Self {
        Fragment {
            index: piece.index,
            id: piece.id,
            name: piece.name,
            arguments: &piece.arguments,
            whole: false,
        }
    }
}

/// What to do with a fragment's arguments right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// The call's block is open: send them as an `input_json_delta` to this block.
    Live(usize),
    /// Kept until the call's turn (or nothing to send).
    Held,
    /// The call's block was already closed (a server sent more after complete arguments): the least bad
    /// choice left is a delta to that block, which SDKs that accumulate by index still use.
    Late(usize),
}

/// A block boundary for the stream translator to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// `content_block_start` for a `tool_use`, then `arguments` (what was held) as one delta if non-empty.
    Open {
        block: usize,
        id: String,
        name: String,
        arguments: String,
    },
    Close {
        block: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Open(usize),
    Closed(usize),
}

#[derive(Debug)]
struct Call {
    /// Upstream index; calls without one get the next free index in arrival order.
    index: u64,
    /// Tells apart calls a server sent under the same index (each with its own id).
    sub: u32,
    upstream_id: Option<String>,
    name: String,
    held: String,
    json: JsonProgress,
    state: State,
}

impl Call {
    fn order(&self) -> (u64, u32) {
        (self.index, self.sub)
    }
}

/// The tool calls of one message.
#[derive(Debug)]
pub(crate) struct ToolCalls {
    /// Prefix of generated ids: `toolu_` (Anthropic) or `call_` (OpenAI).
    id_prefix: &'static str,
    calls: Vec<Call>,
    /// The call the last fragment went to: where a fragment with neither index nor id belongs.
    last: Option<usize>,
    open: Option<usize>,
    /// Calls opened so far: the position a generated id derives from.
    opened: usize,
    ids: Vec<String>,
    warned: bool,
}

impl ToolCalls {
    /// No calls yet; ids the server does not give are generated as `id_prefix` + a derived suffix.
    pub(crate) fn new(id_prefix: &'static str) -> Self {
        ToolCalls {
            id_prefix,
            calls: Vec::new(),
            last: None,
            open: None,
            opened: 0,
            ids: Vec::new(),
            warned: false,
        }
    }

    /// Whether the message made any tool call.
    pub(crate) fn any(&self) -> bool {
        !self.calls.is_empty()
    }

    /// Whether some call is open or waiting for its block.
    pub(crate) fn unfinished(&self) -> bool {
        self.calls
            .iter()
            .any(|c| !matches!(c.state, State::Closed(_)))
    }

    /// Takes one fragment; says where its arguments go now (`Held` ones are kept here).
    pub(crate) fn fragment(&mut self, f: Fragment<'_>) -> Route {
        let Some(at) = self.locate(&f) else {
            return Route::Held;
        };
        self.last = Some(at);
        let call = &mut self.calls[at];
        if call.upstream_id.is_none() {
            call.upstream_id = f.id.map(str::to_owned);
        }
        if call.name.is_empty() {
            if let Some(name) = f.name {
                call.name.push_str(name);
            }
        }
        if f.arguments.is_empty() {
            return Route::Held;
        }
        call.json.feed(f.arguments);
        match call.state {
            State::Open(block) => Route::Live(block),
            State::Waiting => {
                call.held.push_str(f.arguments);
                Route::Held
            }
            State::Closed(_) if f.arguments.trim().is_empty() => Route::Held,
            State::Closed(block) => Route::Late(block),
        }
    }

    /// The next block boundary, if one is due. `finishing` (end of the message, or other content coming)
    /// closes the open call and opens every waiting one in order, whatever is still missing.
    pub(crate) fn step(
        &mut self,
        finishing: bool,
        message_id: &str,
        next_block: &mut usize,
    ) -> Option<Step> {
        if let Some(open) = self.open {
            let others_waiting = self.calls.iter().any(|c| c.state == State::Waiting);
            let call = &mut self.calls[open];
            let State::Open(block) = call.state else {
                return None;
            };
            if !(finishing || (call.json.complete() && others_waiting)) {
                return None;
            }
            call.state = State::Closed(block);
            self.open = None;
            return Some(Step::Close { block });
        }
        let next = self
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state == State::Waiting)
            .min_by_key(|(_, c)| c.order())
            .map(|(i, _)| i)?;
        if !finishing && (self.calls[next].name.is_empty() || !self.lower_calls_opened(next)) {
            return None;
        }
        let block = *next_block;
        *next_block += 1;
        let id = self.assign_id(next, message_id);
        self.opened += 1;
        self.open = Some(next);
        let call = &mut self.calls[next];
        call.state = State::Open(block);
        Some(Step::Open {
            block,
            id,
            name: call.name.clone(),
            arguments: std::mem::take(&mut call.held),
        })
    }

    /// Whether every index below this call's has been seen, and every call before it opened: only then
    /// can no call that belongs before it still arrive.
    fn lower_calls_opened(&self, at: usize) -> bool {
        let call = &self.calls[at];
        if self
            .calls
            .iter()
            .any(|c| c.state == State::Waiting && c.order() < call.order())
        {
            return false;
        }
        let mut below: Vec<u64> = self
            .calls
            .iter()
            .map(|c| c.index)
            .filter(|&i| i < call.index)
            .collect();
        below.sort_unstable();
        below.dedup();
        below.len() as u64 == call.index
    }

    /// The server's id, unless it gave none or one already used in this message.
    fn assign_id(&mut self, at: usize, message_id: &str) -> String {
        let id = match &self.calls[at].upstream_id {
            Some(id) if !self.ids.contains(id) => id.clone(),
            _ => {
                let mut position = self.opened;
                let mut id = fallback_tool_id(self.id_prefix, message_id, position);
                while self.ids.contains(&id) {
                    position += MAX_CALLS;
                    id = fallback_tool_id(self.id_prefix, message_id, position);
                }
                id
            }
        };
        self.ids.push(id.clone());
        id
    }

    /// The call a fragment belongs to, created if it is new.
    fn locate(&mut self, f: &Fragment<'_>) -> Option<usize> {
        let found = match f.index {
            None if f.whole => None,
            Some(index) => self
                .calls
                .iter()
                .rposition(|c| c.index == index)
                .filter(|&at| !self.starts_another(at, f)),
            None => match f.id {
                Some(id) => self
                    .calls
                    .iter()
                    .position(|c| c.upstream_id.as_deref() == Some(id)),
                None => self.last.filter(|&at| !self.starts_another(at, f)),
            },
        };
        if found.is_some() {
            return found;
        }
        if self.calls.len() >= MAX_CALLS {
            if !self.warned {
                self.warned = true;
                log::warn!("an upstream response made more than {MAX_CALLS} tool calls; the rest are dropped");
            }
            return None;
        }
        let (index, sub) = match f.index {
            Some(index) => (
                index,
                self.calls
                    .iter()
                    .filter(|c| c.index == index)
                    .map(|c| c.sub + 1)
                    .max()
                    .unwrap_or(0),
            ),
            None => (
                self.calls
                    .iter()
                    .map(|c| c.index.saturating_add(1))
                    .max()
                    .unwrap_or(0),
                0,
            ),
        };
        self.calls.push(Call {
            index,
            sub,
            upstream_id: None,
            name: String::new(),
            held: String::new(),
            json: JsonProgress::default(),
            state: State::Waiting,
        });
        Some(self.calls.len() - 1)
    }

    /// A fragment naming a new id (or, without any id, a new name) after a call's arguments are complete is
    /// the header of another call, even under the same index.
    fn starts_another(&self, at: usize, f: &Fragment<'_>) -> bool {
        let call = &self.calls[at];
        if !call.json.complete() {
            return false;
        }
        match (f.id, &call.upstream_id) {
            (Some(new), Some(old)) => new != old,
            (Some(_), None) => f.name.is_some(),
            (None, _) => f.index.is_none() && f.name.is_some(),
        }
    }
}

/// One call of a non-streaming message, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WholeCall {
    pub id: String,
    pub name: String,
    /// As the server sent them (an object it sent is serialized); empty when it sent none.
    pub arguments: String,
}

/// The tool calls of a non-streaming Chat message (`tool_calls`, and the older single `function_call`),
/// assembled by the same rules as a stream: entries carrying an `index` are merged by it and ordered by it
/// (some servers put streamed fragments, or several calls under one index, in a non-streaming body); ids
/// missing or repeated are generated.
pub(crate) fn whole_calls(
    msg: &serde_json::Map<String, Value>,
    message_id: &str,
    id_prefix: &'static str,
) -> Vec<WholeCall> {
    let legacy = msg
        .get("function_call")
        .filter(|f| f.is_object())
        .map(|f| serde_json::json!({ "function": f }));
    let entries = msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(legacy.as_ref());
    let mut calls = ToolCalls::new(id_prefix);
    for entry in entries {
        let f = entry.get("function");
        let arguments = match f.and_then(|f| f.get("arguments")) {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => String::new(),
            Some(other) => crate::translate::read::to_string(other),
        };
        fn text(v: Option<&Value>) -> Option<&str> {
            v.and_then(Value::as_str).filter(|s| !s.is_empty())
        }
        let index = entry.get("index").and_then(Value::as_u64);
        calls.fragment(Fragment {
            index,
            whole: index.is_none(),
            id: text(entry.get("id")),
            name: text(f.and_then(|f| f.get("name"))),
            arguments: &arguments,
        });
    }
    let mut blocks = 0;
    std::iter::from_fn(|| calls.step(true, message_id, &mut blocks))
        .filter_map(|step| match step {
            Step::Open {
                id,
                name,
                arguments,
                ..
            } => Some(WholeCall {
                id,
                name,
                arguments,
            }),
            Step::Close { .. } => None,
        })
        .collect()
}

/// How far a call's arguments have come: enough of a JSON scanner to know when a top-level object or
/// array has closed, tracking strings and escapes across fragment boundaries.
#[derive(Debug, Default, Clone, Copy)]
struct JsonProgress {
    phase: Phase,
    depth: u32,
    in_string: bool,
    escaped: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    #[default]
    Empty,
    Inside,
    Complete,
    /// Not an object or array, or more than one: never complete.
    Other,
}

impl JsonProgress {
    fn complete(&self) -> bool {
        self.phase == Phase::Complete
    }

    fn feed(&mut self, text: &str) {
        for b in text.bytes() {
            match self.phase {
                Phase::Other => return,
                Phase::Empty | Phase::Complete if b.is_ascii_whitespace() => {}
                Phase::Empty if b == b'{' || b == b'[' => {
                    self.phase = Phase::Inside;
                    self.depth = 1;
                }
                Phase::Empty | Phase::Complete => self.phase = Phase::Other,
                Phase::Inside if self.in_string => {
                    if self.escaped {
                        self.escaped = false;
                    } else if b == b'\\' {
                        self.escaped = true;
                    } else if b == b'"' {
                        self.in_string = false;
                    }
                }
                Phase::Inside => match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            self.phase = Phase::Complete;
                        }
                    }
                    _ => {}
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag<'a>(
        index: Option<u64>,
        id: Option<&'a str>,
        name: Option<&'a str>,
        arguments: &'a str,
    ) -> Fragment<'a> {
        Fragment {
            index,
            id,
            name,
            arguments,
            whole: false,
        }
    }

    /// Block 0 closes and call `b` (`B`) opens as block 1 with what was held for it.
    fn switch_to_b(held: &str) -> [Step; 2] {
        let open = Step::Open {
            block: 1,
            id: "b".into(),
            name: "B".into(),
            arguments: held.into(),
        };
        [Step::Close { block: 0 }, open]
    }

    fn drain(calls: &mut ToolCalls, finishing: bool, next: &mut usize) -> Vec<Step> {
        std::iter::from_fn(|| calls.step(finishing, "msg_x", next)).collect()
    }

    #[test]
    fn json_progress_sees_objects_close_across_fragments_and_strings() {
        let mut p = JsonProgress::default();
        for piece in [" {\"a\":\"}", "\\\"{\"", ",\"b\":[1,{}]", "}"] {
            assert!(!p.complete());
            p.feed(piece);
        }
        assert!(p.complete());
        p.feed("  \n");
        assert!(p.complete());
        p.feed("x");
        assert!(!p.complete(), "trailing garbage");
        let mut scalar = JsonProgress::default();
        scalar.feed("12");
        assert!(!scalar.complete());
    }

    #[test]
    fn sequential_calls_stream_live_and_switch_when_the_next_begins() {
        let mut calls = ToolCalls::new("toolu_");
        let mut next = 0;
        assert_eq!(
            calls.fragment(frag(Some(0), Some("a"), Some("A"), "")),
            Route::Held
        );
        assert_eq!(
            drain(&mut calls, false, &mut next),
            [Step::Open {
                block: 0,
                id: "a".into(),
                name: "A".into(),
                arguments: String::new()
            }]
        );
        assert_eq!(
            calls.fragment(frag(Some(0), None, None, "{\"x\":")),
            Route::Live(0)
        );
        assert_eq!(
            calls.fragment(frag(Some(0), None, Some("A"), "1}")),
            Route::Live(0)
        );
        assert!(
            drain(&mut calls, false, &mut next).is_empty(),
            "complete, but nothing else is waiting yet"
        );
        assert_eq!(
            calls.fragment(frag(Some(1), Some("b"), Some("B"), "{}")),
            Route::Held
        );
        assert_eq!(drain(&mut calls, false, &mut next), switch_to_b("{}"));
        assert_eq!(
            drain(&mut calls, true, &mut next),
            [Step::Close { block: 1 }]
        );
    }

    #[test]
    fn interleaved_calls_are_held_until_their_turn() {
        let mut calls = ToolCalls::new("toolu_");
        let mut next = 0;
        calls.fragment(frag(Some(1), Some("b"), Some("B"), ""));
        assert!(
            drain(&mut calls, false, &mut next).is_empty(),
            "index 0 has not been seen"
        );
        calls.fragment(frag(Some(0), Some("a"), Some("A"), ""));
        assert_eq!(drain(&mut calls, false, &mut next).len(), 1);
        assert_eq!(
            calls.fragment(frag(Some(1), None, None, "{\"q\":")),
            Route::Held
        );
        assert_eq!(
            calls.fragment(frag(Some(0), None, None, "{\"p\":1")),
            Route::Live(0)
        );
        assert_eq!(calls.fragment(frag(Some(1), None, None, "2}")), Route::Held);
        assert!(
            drain(&mut calls, false, &mut next).is_empty(),
            "call 0 is still incomplete"
        );
        assert_eq!(
            calls.fragment(frag(Some(0), None, None, "}")),
            Route::Live(0)
        );
        assert_eq!(
            drain(&mut calls, false, &mut next),
            switch_to_b("{\"q\":2}")
        );
    }

    #[test]
    fn missing_and_repeated_ids_are_generated_and_one_index_can_carry_several_calls() {
        let mut calls = ToolCalls::new("toolu_");
        let mut next = 0;
        calls.fragment(frag(Some(0), Some("dup"), Some("A"), "{}"));
        calls.fragment(frag(Some(0), Some("other"), Some("B"), "{}"));
        calls.fragment(frag(Some(1), Some("dup"), Some("C"), "{}"));
        calls.fragment(frag(Some(2), None, Some("D"), "{}"));
        let ids: Vec<String> = drain(&mut calls, true, &mut next)
            .into_iter()
            .filter_map(|s| match s {
                Step::Open { id, name, .. } => Some(format!("{name}:{id}")),
                Step::Close { .. } => None,
            })
            .collect();
        assert_eq!(ids[..2], ["A:dup".to_string(), "B:other".to_string()]);
        assert!(
            ids[2].starts_with("C:toolu_") && ids[3].starts_with("D:toolu_"),
            "{ids:?}"
        );
        assert_ne!(ids[2][2..], ids[3][2..]);
    }

    #[test]
    fn calls_without_index_follow_their_id_or_the_last_call() {
        let mut calls = ToolCalls::new("toolu_");
        let mut next = 0;
        calls.fragment(frag(None, Some("a"), Some("A"), "{\"x\""));
        calls.fragment(frag(None, None, None, ":1}"));
        calls.fragment(frag(None, Some("b"), Some("B"), "{}"));
        calls.fragment(frag(None, None, Some("C"), "{}"));
        let steps = drain(&mut calls, true, &mut next);
        let opened: Vec<(String, String)> = steps
            .into_iter()
            .filter_map(|s| match s {
                Step::Open {
                    name, arguments, ..
                } => Some((name, arguments)),
                Step::Close { .. } => None,
            })
            .collect();
        assert_eq!(
            opened,
            [
                ("A".into(), "{\"x\":1}".into()),
                ("B".into(), "{}".into()),
                ("C".into(), "{}".into())
            ]
        );
    }

    #[test]
    fn a_fragment_after_the_close_goes_late_and_whitespace_is_dropped() {
        let mut calls = ToolCalls::new("toolu_");
        let mut next = 0;
        calls.fragment(frag(Some(0), Some("a"), Some("A"), "{}"));
        drain(&mut calls, true, &mut next);
        assert_eq!(
            calls.fragment(frag(Some(0), None, None, " \n")),
            Route::Held
        );
        assert_eq!(
            calls.fragment(frag(Some(0), None, None, "x")),
            Route::Late(0)
        );
        assert!(!calls.unfinished());
    }
}
