//! Anthropic content blocks read into a small closed set the message builder can place: text, image URL,
//! tool call, tool result, thinking. Everything OpenAI cannot carry is reported in `Notes` here, at the one
//! place that sees each block: server-tool blocks, PDF documents (replaced by a visible placeholder so the
//! model knows something was there), unknown block types, and `cache_control` on blocks that cannot keep it
//! (tool calls, thinking). Text, image and tool-result blocks keep their `cache_control` for the message
//! builder, which sends it on or drops it (and reports that) as the provider's settings say.

use serde_json::Value;

use crate::translate::notes::Notes;
use crate::translate::read::{
    as_object, opt_bool, opt_object, opt_str, req_str, to_string, Path, Res, Side,
};

const SIDE: Side = Side::Request;

/// A block's `cache_control` as the client wrote it, if any.
pub(super) type Cache = Option<Value>;

/// One Anthropic content block, reduced to what an OpenAI message can hold.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Block {
    Text(String, Cache),
    /// An image as a URL: `data:<media>;base64,<data>` or the source URL.
    Image(String, Cache),
    ToolUse {
        id: String,
        name: String,
        arguments: String,
    },
    ToolResult {
        id: String,
        text: String,
        images: Vec<String>,
        is_error: bool,
        cache: Cache,
    },
    /// Earlier-turn reasoning (`thinking` text; `redacted_thinking` is dropped at read time).
    Thinking(String),
}

/// Reads `content`: a string or an array of blocks.
pub(super) fn read_content(content: &Value, at: &Path, notes: &mut Notes) -> Res<Vec<Block>> {
    match content {
        Value::String(s) => Ok(vec![Block::Text(s.clone(), None)]),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(b) = read_block(item, &at.index(i), notes)? {
                    out.push(b);
                }
            }
            Ok(out)
        }
        _ => Err(at.err(SIDE, "a string or an array of content blocks")),
    }
}

fn read_block(v: &Value, at: &Path, notes: &mut Notes) -> Res<Option<Block>> {
    let b = as_object(v, at, SIDE)?;
    let kind = req_str(b, "type", at, SIDE)?;
    let cache = b.get("cache_control").filter(|c| !c.is_null()).cloned();
    if cache.is_some() && !matches!(kind, "text" | "image" | "document" | "search_result" | "tool_result") {
        notes.drop("cache_control");
    }
    let block = match kind {
        "text" => {
            if b.get("citations").is_some_and(|c| !c.is_null()) {
                notes.drop("citations");
            }
            Block::Text(req_str(b, "text", at, SIDE)?.to_owned(), cache)
        }
        "image" => match image_url(b, at, notes)? {
            Some(url) => Block::Image(url, cache),
            None => return Ok(None),
        },
        "document" => Block::Text(document_text(b, at, notes)?, cache),
        "search_result" => {
            let title = opt_str(b, "title", at, SIDE)?.unwrap_or("");
            let source = opt_str(b, "source", at, SIDE)?.unwrap_or("");
            let body = match b.get("content") {
                Some(c) => joined_text(&read_content(c, &at.key("content"), notes)?),
                None => String::new(),
            };
            Block::Text(format!("[search result: {title} ({source})]\n{body}"), cache)
        }
        "tool_use" => {
            let input = b
                .get("input")
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            Block::ToolUse {
                id: req_str(b, "id", at, SIDE)?.to_owned(),
                name: req_str(b, "name", at, SIDE)?.to_owned(),
                arguments: to_string(&input),
            }
        }
        "tool_result" => {
            let id = req_str(b, "tool_use_id", at, SIDE)?.to_owned();
            let is_error = opt_bool(b, "is_error", at, SIDE)?.unwrap_or(false);
            let inner = match b.get("content") {
                None | Some(Value::Null) => Vec::new(),
                Some(c) => read_content(c, &at.key("content"), notes)?,
            };
            let mut images = Vec::new();
            let mut texts = Vec::new();
            let mut inner_cache = None;
            for block in inner {
                match block {
                    Block::Text(t, c) => {
                        texts.push(t);
                        inner_cache = c.or(inner_cache);
                    }
                    Block::Image(url, c) => {
                        images.push(url);
                        inner_cache = c.or(inner_cache);
                    }
                    _ => notes.drop("unknown_content_blocks"),
                }
            }
            Block::ToolResult {
                id,
                text: texts.join("\n\n"),
                images,
                is_error,
                cache: cache.or(inner_cache),
            }
        }
        "thinking" => Block::Thinking(opt_str(b, "thinking", at, SIDE)?.unwrap_or("").to_owned()),
        "redacted_thinking" => {
            notes.drop("redacted_thinking");
            return Ok(None);
        }
        "server_tool_use"
        | "web_search_tool_result"
        | "web_fetch_tool_result"
        | "code_execution_tool_result"
        | "bash_code_execution_tool_result"
        | "text_editor_code_execution_tool_result"
        | "mcp_tool_use"
        | "mcp_tool_result"
        | "container_upload"
        | "tool_search_tool_result"
        | "tool_reference" => {
            notes.drop("server_tool_blocks");
            return Ok(None);
        }
        _ => {
            notes.drop("unknown_content_blocks");
            return Ok(None);
        }
    };
    Ok(Some(block))
}

/// The URL OpenAI's `image_url` takes, or `None` for sources it cannot reference (`file` ids).
fn image_url(
    b: &serde_json::Map<String, Value>,
    at: &Path,
    notes: &mut Notes,
) -> Res<Option<String>> {
    let src_at = at.key("source");
    let src = opt_object(b, "source", at, SIDE)?
        .ok_or_else(|| src_at.err(SIDE, "an object (required)"))?;
    match req_str(src, "type", &src_at, SIDE)? {
        "base64" => {
            let media = req_str(src, "media_type", &src_at, SIDE)?;
            let data = req_str(src, "data", &src_at, SIDE)?;
            Ok(Some(format!("data:{media};base64,{data}")))
        }
        "url" => Ok(Some(req_str(src, "url", &src_at, SIDE)?.to_owned())),
        "file" => {
            notes.drop("file_sources");
            Ok(None)
        }
        _ => Err(src_at.key("type").err(SIDE, "one of base64, url, file")),
    }
}

/// A `document` block as text: text sources and content sources are inlined; PDFs and files become a
/// placeholder line because Chat Completions has no portable document part.
fn document_text(b: &serde_json::Map<String, Value>, at: &Path, notes: &mut Notes) -> Res<String> {
    let src_at = at.key("source");
    let src = opt_object(b, "source", at, SIDE)?
        .ok_or_else(|| src_at.err(SIDE, "an object (required)"))?;
    let title = opt_str(b, "title", at, SIDE)?;
    let body = match req_str(src, "type", &src_at, SIDE)? {
        "text" => req_str(src, "data", &src_at, SIDE)?.to_owned(),
        "content" => match src.get("content") {
            Some(c) => joined_text(&read_content(c, &src_at.key("content"), notes)?),
            None => String::new(),
        },
        other => {
            notes.drop("pdf_documents");
            let what = match other {
                "base64" | "url" => "PDF document",
                _ => "file document",
            };
            return Ok(format!(
                "[{what}{} omitted: this model cannot read documents]",
                title_suffix(title)
            ));
        }
    };
    Ok(match title {
        Some(t) if !t.is_empty() => format!("{t}\n\n{body}"),
        _ => body,
    })
}

fn title_suffix(title: Option<&str>) -> String {
    match title {
        Some(t) if !t.is_empty() => format!(" \"{t}\""),
        _ => String::new(),
    }
}

/// The text blocks of a list joined by blank lines; other blocks are ignored.
pub(super) fn joined_text(blocks: &[Block]) -> String {
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text(t, _) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    texts.join("\n\n")
}

/// The prefix of the per-session block Claude Code puts first in `system`.
const BILLING_HEADER_PREFIX: &str = "x-anthropic-billing-header:";

/// Reads the top-level `system` (string or text blocks) and drops Claude Code's per-session
/// `x-anthropic-billing-header: …` block: it changes every session, so forwarding it would defeat the
/// target provider's prompt cache across sessions.
pub(super) fn system_blocks(system: &Value, at: &Path, notes: &mut Notes) -> Res<Vec<Block>> {
    let mut blocks = read_content(system, at, notes)?;
    blocks.retain(|b| match b {
        Block::Text(t, _) if t.trim_start().starts_with(BILLING_HEADER_PREFIX) => {
            notes.drop("billing_header");
            false
        }
        _ => true,
    });
    Ok(blocks)
}
