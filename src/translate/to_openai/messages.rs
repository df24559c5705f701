//! Builds the OpenAI `messages` list from Anthropic turns. The hard part is placement: OpenAI wants each
//! assistant message with `tool_calls` followed directly by one `role: "tool"` message per call, while
//! Anthropic carries tool results as blocks inside the next user turn, possibly with user text beside them
//! and with Claude Code's mid-conversation `role: "system"` messages in between. So tool messages are
//! inserted right after the assistant message that made the calls, the user's own text follows them, and
//! calls left without a result get a stated placeholder rather than an upstream 400.
//! Consecutive user or assistant messages are merged so strict chat templates see alternating roles.
//!
//! With `keep_cache` (providers that honour Anthropic-style `cache_control` on content parts, such as
//! OpenRouter), content keeps the client's block structure — an array with one part per block, each carrying
//! the `cache_control` the client put on that block — so the provider's cache breakpoints are where Claude
//! Code put them and a message reads the same on every turn whether or not it is marked. Without it, text is
//! joined into strings and markers are dropped (and reported).

use serde_json::{json, Map, Value};

use super::blocks::{read_content, Block, Cache};
use super::request::MidSystem;
use crate::translate::notes::Notes;
use crate::translate::read::{as_object, opt_object, opt_str, req_str, Path, Res, Side};

const SIDE: Side = Side::Request;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String, Cache),
    Image(String, Cache),
}

/// Text with the `cache_control` of the block it came from.
type Text = (String, Cache);

#[derive(Debug, Clone, PartialEq)]
struct Call {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Msg {
    System(Vec<Text>),
    User(Vec<Part>),
    Assistant {
        text: Vec<Text>,
        reasoning: Vec<String>,
        calls: Vec<Call>,
    },
    Tool {
        id: String,
        content: String,
        cache: Cache,
    },
}

/// The OpenAI conversation under construction.
pub(super) struct Conversation {
    msgs: Vec<Msg>,
    mid_system: MidSystem,
    replay_reasoning: bool,
    keep_cache: bool,
    /// The latest per-turn `output_config.effort` found on a `role: "system"` message.
    pub(super) turn_effort: Option<String>,
}

impl Conversation {
    pub(super) fn new(mid_system: MidSystem, replay_reasoning: bool, keep_cache: bool) -> Self {
        Conversation {
            msgs: Vec::new(),
            mid_system,
            replay_reasoning,
            keep_cache,
            turn_effort: None,
        }
    }

    /// The top-level `system` prompt, always first.
    pub(super) fn push_system(&mut self, blocks: Vec<Block>, notes: &mut Notes) {
        let texts = self.texts(blocks, notes);
        if !texts.is_empty() {
            self.msgs.push(Msg::System(texts));
        }
    }

    /// A block's `cache_control`, kept when the provider honours it; otherwise dropped and reported.
    fn cache(&self, cache: Cache, notes: &mut Notes) -> Cache {
        match cache {
            Some(c) if self.keep_cache => Some(c),
            Some(_) => {
                notes.drop("cache_control");
                None
            }
            None => None,
        }
    }

    /// The non-empty text blocks of a system prompt; anything else is reported and skipped.
    fn texts(&self, blocks: Vec<Block>, notes: &mut Notes) -> Vec<Text> {
        let mut texts = Vec::new();
        for b in blocks {
            match b {
                Block::Text(t, c) if !t.is_empty() => texts.push((t, self.cache(c, notes))),
                Block::Text(..) => {}
                _ => notes.drop("unknown_content_blocks"),
            }
        }
        texts
    }

    /// Adds one Anthropic message.
    pub(super) fn add(&mut self, msg: &Value, at: &Path, notes: &mut Notes) -> Res<()> {
        let m = as_object(msg, at, SIDE)?;
        let role = req_str(m, "role", at, SIDE)?;
        let content_at = at.key("content");
        let content = m
            .get("content")
            .ok_or_else(|| content_at.err(SIDE, "a string or an array (required)"))?;
        let blocks = read_content(content, &content_at, notes)?;
        match role {
            "user" => self.add_user(blocks, notes),
            "assistant" => self.add_assistant(blocks, notes),
            "system" => {
                if let Some(cfg) = opt_object(m, "output_config", at, SIDE)? {
                    if let Some(e) = opt_str(cfg, "effort", &at.key("output_config"), SIDE)? {
                        self.turn_effort = Some(e.to_owned());
                    }
                }
                self.add_system(blocks, notes);
            }
            _ => return Err(at.key("role").err(SIDE, "one of user, assistant, system")),
        }
        Ok(())
    }

    fn add_system(&mut self, blocks: Vec<Block>, notes: &mut Notes) {
        let texts = self.texts(blocks, notes);
        if texts.is_empty() {
            return;
        }
        match self.mid_system {
            MidSystem::InPlace => self.msgs.push(Msg::System(texts)),
            MidSystem::AsUser => {
                notes.degrade("system_messages_as_user");
                let cache = texts.iter().rev().find_map(|(_, c)| c.clone());
                let text = joined(&texts);
                let wrapped = format!("<system-reminder>\n{text}\n</system-reminder>");
                self.push_merging(Msg::User(vec![Part::Text(wrapped, cache)]));
            }
        }
    }

    fn add_assistant(&mut self, blocks: Vec<Block>, notes: &mut Notes) {
        let (mut text, mut reasoning, mut calls) = (Vec::new(), Vec::new(), Vec::new());
        for block in blocks {
            match block {
                Block::Text(t, _) if t.is_empty() => {}
                Block::Text(t, c) => text.push((t, self.cache(c, notes))),
                Block::ToolUse {
                    id,
                    name,
                    arguments,
                } => calls.push(Call {
                    id,
                    name,
                    arguments,
                }),
                Block::Thinking(t) if self.replay_reasoning => reasoning.push(t),
                Block::Thinking(_) => notes.drop("thinking_blocks"),
                Block::Image(..) | Block::ToolResult { .. } => notes.drop("unknown_content_blocks"),
            }
        }
        if text.is_empty() && calls.is_empty() {
            return;
        }
        self.push_merging(Msg::Assistant {
            text,
            reasoning,
            calls,
        });
    }

    fn add_user(&mut self, blocks: Vec<Block>, notes: &mut Notes) {
        let mut parts = Vec::new();
        let mut results = Vec::new();
        let mut moved_images = Vec::new();
        for block in blocks {
            match block {
                Block::Text(t, _) if t.is_empty() => {}
                Block::Text(t, c) => parts.push(Part::Text(t, self.cache(c, notes))),
                Block::Image(url, c) => parts.push(Part::Image(url, self.cache(c, notes))),
                Block::ToolResult {
                    id,
                    text,
                    images,
                    is_error,
                    cache,
                } => {
                    let content = if is_error {
                        format!("Error: {text}")
                    } else {
                        text
                    };
                    if !images.is_empty() {
                        notes.degrade("tool_result_images");
                        moved_images.push(Part::Text(
                            format!("[image(s) returned by tool call {id}]"),
                            None,
                        ));
                        moved_images.extend(images.into_iter().map(|url| Part::Image(url, None)));
                    }
                    let cache = self.cache(cache, notes);
                    results.push((id, content, cache));
                }
                Block::Thinking(_) | Block::ToolUse { .. } => notes.drop("unknown_content_blocks"),
            }
        }
        let mut orphans = Vec::new();
        for (id, content, cache) in results {
            if !self.place_tool_result(&id, &content, &cache) {
                notes.degrade("orphan_tool_results");
                orphans.push(Part::Text(
                    format!("[result of tool call {id}]\n{content}"),
                    cache,
                ));
            }
        }
        let mut all = orphans;
        all.extend(moved_images);
        all.extend(parts);
        if !all.is_empty() {
            self.push_merging(Msg::User(all));
        }
    }

    /// Inserts a tool message after the latest assistant message that made the call (after the results
    /// already placed there). Returns false when no such unanswered call exists.
    fn place_tool_result(&mut self, id: &str, content: &str, cache: &Cache) -> bool {
        let Some(anchor) = self
            .msgs
            .iter()
            .rposition(|m| matches!(m, Msg::Assistant { calls, .. } if !calls.is_empty()))
        else {
            return false;
        };
        let called = matches!(&self.msgs[anchor], Msg::Assistant { calls, .. } if calls.iter().any(|c| c.id == id));
        let mut pos = anchor + 1;
        let mut answered = false;
        while let Some(Msg::Tool { id: done, .. }) = self.msgs.get(pos) {
            answered |= done == id;
            pos += 1;
        }
        if !called || answered {
            return false;
        }
        self.msgs.insert(
            pos,
            Msg::Tool {
                id: id.to_owned(),
                content: content.to_owned(),
                cache: cache.clone(),
            },
        );
        true
    }

    fn push_merging(&mut self, msg: Msg) {
        match (self.msgs.last_mut(), msg) {
            (Some(Msg::User(prev)), Msg::User(parts)) => prev.extend(parts),
            (
                Some(Msg::Assistant {
                    text,
                    reasoning,
                    calls,
                }),
                Msg::Assistant {
                    text: t,
                    reasoning: r,
                    calls: c,
                },
            ) => {
                text.extend(t);
                reasoning.extend(r);
                calls.extend(c);
            }
            (_, msg) => self.msgs.push(msg),
        }
    }

    /// Adds placeholder results for calls that never got one, then renders the OpenAI messages.
    pub(super) fn render(mut self, notes: &mut Notes) -> Vec<Value> {
        let mut i = 0;
        while i < self.msgs.len() {
            if let Msg::Assistant { calls, .. } = &self.msgs[i] {
                let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
                let mut end = i + 1;
                while matches!(self.msgs.get(end), Some(Msg::Tool { .. })) {
                    end += 1;
                }
                for id in ids {
                    let answered = self.msgs[i + 1..end]
                        .iter()
                        .any(|m| matches!(m, Msg::Tool { id: d, .. } if *d == id));
                    if !answered {
                        notes.degrade("missing_tool_results");
                        let content =
                            "Error: no result was provided for this tool call.".to_owned();
                        self.msgs.insert(
                            end,
                            Msg::Tool {
                                id,
                                content,
                                cache: None,
                            },
                        );
                        end += 1;
                    }
                }
                i = end;
            } else {
                i += 1;
            }
        }
        let (replay, keep_cache) = (self.replay_reasoning, self.keep_cache);
        self.msgs
            .into_iter()
            .map(|m| render_one(m, replay, keep_cache))
            .collect()
    }
}

fn render_one(msg: Msg, replay_reasoning: bool, keep_cache: bool) -> Value {
    match msg {
        Msg::System(texts) if keep_cache => {
            json!({ "role": "system", "content": text_parts(texts) })
        }
        Msg::System(texts) => json!({ "role": "system", "content": joined(&texts) }),
        Msg::Tool { id, content, cache } => {
            let content = if keep_cache {
                text_parts(vec![(content, cache)])
            } else {
                json!(content)
            };
            json!({ "role": "tool", "tool_call_id": id, "content": content })
        }
        Msg::User(parts) => {
            json!({ "role": "user", "content": render_parts(parts, keep_cache) })
        }
        Msg::Assistant {
            text,
            reasoning,
            calls,
        } => {
            let mut m = Map::new();
            m.insert("role".into(), json!("assistant"));
            let content = if text.is_empty() {
                Value::Null
            } else if keep_cache {
                text_parts(text)
            } else {
                json!(joined(&text))
            };
            m.insert("content".into(), content);
            if replay_reasoning && !reasoning.is_empty() {
                m.insert("reasoning_content".into(), json!(reasoning.join("\n\n")));
            }
            if !calls.is_empty() {
                let calls: Vec<Value> = calls
                    .into_iter()
                    .map(|c| json!({ "id": c.id, "type": "function", "function": { "name": c.name, "arguments": c.arguments } }))
                    .collect();
                m.insert("tool_calls".into(), Value::Array(calls));
            }
            Value::Object(m)
        }
    }
}

/// Texts joined by blank lines: how blocks become one string.
fn joined(texts: &[Text]) -> String {
    let texts: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
    texts.join("\n\n")
}

/// One `text` part per block, each with the `cache_control` its block had.
fn text_parts(texts: Vec<Text>) -> Value {
    Value::Array(texts.into_iter().map(|(t, c)| part(json!({ "type": "text", "text": t }), c)).collect())
}

fn part(mut p: Value, cache: Cache) -> Value {
    if let (Some(c), Some(m)) = (cache, p.as_object_mut()) {
        m.insert("cache_control".into(), c);
    }
    p
}

/// Text-only content becomes one string (blocks joined by blank lines), which every OpenAI-compatible
/// server accepts; content with images — or any content when markers are kept — becomes an array of parts.
fn render_parts(parts: Vec<Part>, keep_cache: bool) -> Value {
    if !keep_cache && parts.iter().all(|p| matches!(p, Part::Text(..))) {
        let texts: Vec<String> = parts
            .into_iter()
            .filter_map(|p| if let Part::Text(t, _) = p { Some(t) } else { None })
            .collect();
        return json!(texts.join("\n\n"));
    }
    let arr: Vec<Value> = parts
        .into_iter()
        .map(|p| match p {
            Part::Text(t, c) => part(json!({ "type": "text", "text": t }), c),
            Part::Image(url, c) => part(json!({ "type": "image_url", "image_url": { "url": url } }), c),
        })
        .collect();
    Value::Array(arr)
}
