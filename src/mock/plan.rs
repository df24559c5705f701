//! Reply planning: the pure decision of what the mock answers, independent of wire format. Given a
//! [`Conversation`] it picks the reply text, whether to reason first, whether to call a tool (and with which
//! arguments), the stop reason and the token usage, following the deterministic rules documented in `mod.rs`.
//! The renderers in `anthropic.rs` and `openai.rs` only turn a [`Reply`] into bytes.

use serde_json::{Map, Value};

use crate::mock::cache::CacheUse;
use crate::mock::request::{Conversation, Tool, ToolChoice};
use crate::mock::schema;

/// How many characters of the user's last text are echoed back.
const ECHO_CHARS: usize = 80;
/// How many characters of a tool result are echoed back.
const RESULT_CHARS: usize = 200;

/// What the mock will answer, before it is rendered in either API's format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply<'a> {
    /// Reasoning shown before the answer (Anthropic `thinking` block / OpenAI `reasoning_content`).
    pub thinking: Option<String>,
    pub text: String,
    pub tool: Option<ToolCall<'a>>,
    /// Further calls made in parallel with `tool` (one more shell call per extra `run:` line).
    pub more_tools: Vec<ToolCall<'a>>,
    pub stop: Stop,
    /// Every input token, cached or not (OpenAI's `prompt_tokens`).
    pub input_tokens: u64,
    /// How much of the input the prompt cache read and wrote (filled in by the handler, see `cache.rs`).
    pub cache: CacheUse,
    /// Words in thinking + text + tool arguments.
    pub output_tokens: u64,
    /// Words in the thinking alone (OpenAI's `reasoning_tokens`).
    pub reasoning_tokens: u64,
}

/// A tool call the reply makes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolCall<'a> {
    pub name: &'a str,
    /// The arguments as a JSON object (Anthropic `input`).
    pub input: Value,
    /// The same arguments serialized compactly (OpenAI `arguments`, Anthropic `partial_json`).
    pub arguments: String,
}

/// Why the reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    EndTurn,
    ToolUse,
    MaxTokens,
}

/// Plans the reply to `conv`, whose request body was `body_len` bytes long.
pub(crate) fn plan<'a>(conv: &Conversation<'a>, body_len: usize) -> Reply<'a> {
    let mut more_tools = Vec::new();
    let (subject, mut text, mut tool) = match &conv.tool_result {
        Some(result) => {
            let echoed = first_chars(result, RESULT_CHARS);
            (echoed, format!("Tool result received: {echoed}"), None)
        }
        None => {
            let echoed = first_chars(conv.last_user_text, ECHO_CHARS);
            match choose_tool(conv) {
                Some(call) => {
                    more_tools = more_shell_calls(conv, &call);
                    let names: Vec<&str> = std::iter::once(call.name)
                        .chain(more_tools.iter().map(|t| t.name))
                        .collect();
                    (echoed, format!("I'll use {}.", names.join(" and ")), Some(call))
                }
                None => (
                    echoed,
                    format!(
                        "Hello from the switchyard mock (model {}). You said: {echoed}",
                        conv.model
                    ),
                    None,
                ),
            }
        }
    };
    let thinking = conv.thinking.then(|| format!("Mock reasoning about: {subject}"));

    let argument_words: u64 = tool.iter().chain(&more_tools).map(|t| words(&t.arguments)).sum();
    let mut stop = if tool.is_some() { Stop::ToolUse } else { Stop::EndTurn };
    if let Some(limit) = conv.max_tokens {
        if words(&text) + argument_words > limit {
            let kept = truncate_words(&text, limit).len();
            text.truncate(kept);
            tool = None;
            more_tools.clear();
            stop = Stop::MaxTokens;
        }
    }
    let reasoning_tokens = thinking.as_deref().map_or(0, words);
    let output_tokens =
        reasoning_tokens + words(&text) + tool.iter().chain(&more_tools).map(|t| words(&t.arguments)).sum::<u64>();
    Reply {
        thinking,
        text,
        tool,
        more_tools,
        stop,
        input_tokens: (body_len as u64).div_ceil(4),
        cache: CacheUse::default(),
        output_tokens,
        reasoning_tokens,
    }
}

/// Words that pad a reply to a requested length (`x-mock-output-tokens`).
const FILLER: [&str; 8] = ["the", "change", "keeps", "each", "test", "green", "and", "ships"];

/// Pads `reply`'s text with filler words until its output tokens reach `target`, without going past
/// `max_tokens` (text and tool arguments; reasoning does not count against it, as in `plan`).
pub(crate) fn pad_output(reply: &mut Reply<'_>, target: u64, max_tokens: Option<u64>) {
    let limited = max_tokens.map_or(u64::MAX, |m| m.saturating_sub(reply.output_tokens - reply.reasoning_tokens));
    let missing = target.saturating_sub(reply.output_tokens).min(limited);
    for i in 0..missing {
        reply.text.push(' ');
        reply.text.push_str(FILLER[(i % FILLER.len() as u64) as usize]);
    }
    reply.output_tokens += missing;
}

impl Reply<'_> {
    /// Input tokens neither read from nor written to the prompt cache (Anthropic's `input_tokens`).
    pub(crate) fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens.saturating_sub(self.cache.read + self.cache.write())
    }
}

/// The arguments a shell tool takes for `command`: Claude Code's `Bash`, Codex CLI's `exec_command` and its
/// older `shell`. Other tools are not shells.
fn shell_arguments(tool: &str, command: &str) -> Option<Value> {
    let mut args = Map::new();
    match tool {
        "Bash" => {
            args.insert("command".to_owned(), Value::String(command.to_owned()));
            args.insert("description".to_owned(), Value::String("mock".to_owned()));
        }
        "exec_command" => {
            args.insert("cmd".to_owned(), Value::String(command.to_owned()));
        }
        "shell" => {
            let argv = ["bash", "-lc", command].map(|a| Value::String(a.to_owned()));
            args.insert("command".to_owned(), Value::Array(argv.to_vec()));
        }
        _ => return None,
    }
    Some(Value::Object(args))
}

/// The tool the reply calls, if any: a forced tool choice wins, then `run: <command>` with a shell tool on offer,
/// then (only when some tool is required) a tool the text names, else the first tool offered.
fn choose_tool<'a>(conv: &Conversation<'a>) -> Option<ToolCall<'a>> {
    if conv.tools.is_empty() {
        return None;
    }
    let command = run_command(conv.last_user_text);
    let bash = || command.and_then(|c| conv.tools.iter().find(|t| shell_arguments(t.name, c).is_some()));
    let mentioned = || conv.tools.iter().find(|t| mentions(conv.last_user_text, t.name));
    let tool: &Tool<'a> = match conv.tool_choice {
        ToolChoice::Never => return None,
        ToolChoice::Named(name) => conv
            .tools
            .iter()
            .find(|t| t.name == name)
            .or_else(bash)
            .or_else(mentioned)?,
        ToolChoice::Any => bash().or_else(mentioned).or(conv.tools.first())?,
        ToolChoice::Auto => bash().or_else(mentioned)?,
    };
    if let Some(call) = command.and_then(|c| shell_call(tool.name, c)) {
        return Some(call);
    }
    let input = schema::arguments_for(tool.schema);
    let arguments = serde_json::to_string(&input).unwrap_or_else(|_| "{}".to_owned());
    Some(ToolCall {
        name: tool.name,
        input,
        arguments,
    })
}

/// The command after `run:` up to the end of its line, if there is one.
fn run_command(text: &str) -> Option<&str> {
    run_commands(text).next()
}

/// Every `run:` command in the text, in order: the first is `run_command`, the rest are parallel calls.
fn run_commands(text: &str) -> impl Iterator<Item = &str> {
    text.split("run:").skip(1).filter_map(|rest| {
        let command = rest.split(['\n', '\r']).next().unwrap_or("").trim();
        (!command.is_empty()).then_some(command)
    })
}

/// When the first call is a shell tool's for a `run:` line, one more call of that tool for each further `run:`
/// line: the mock's way to make parallel tool calls.
fn more_shell_calls<'a>(conv: &Conversation<'a>, first: &ToolCall<'a>) -> Vec<ToolCall<'a>> {
    if run_command(conv.last_user_text).is_none() {
        return Vec::new();
    }
    run_commands(conv.last_user_text)
        .skip(1)
        .map_while(|command| shell_call(first.name, command))
        .collect()
}

/// A call of the shell tool `name` running `command`, if `name` is a shell tool.
fn shell_call<'a>(name: &'a str, command: &str) -> Option<ToolCall<'a>> {
    let input = shell_arguments(name, command)?;
    let arguments = serde_json::to_string(&input).unwrap_or_else(|_| "{}".to_owned());
    Some(ToolCall { name, input, arguments })
}

/// Whether `name` occurs in `text` as a whole word (case-sensitive).
fn mentions(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// The first `n` characters of `s`.
pub(crate) fn first_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// The number of whitespace-separated words, the mock's token count.
pub(crate) fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// `s` cut just after its `n`-th word.
fn truncate_words(s: &str, n: u64) -> &str {
    let start = s.as_ptr() as usize;
    let end = s
        .split_whitespace()
        .take(usize::try_from(n).unwrap_or(usize::MAX))
        .last()
        .map_or(0, |w| w.as_ptr() as usize - start + w.len());
    &s[..end]
}

/// `s` split into `parts` pieces of roughly equal length on character boundaries (fewer when `s` has fewer
/// characters; none when it is empty).
pub(crate) fn split_even(s: &str, parts: usize) -> Vec<&str> {
    let total = s.chars().count();
    if total == 0 {
        return Vec::new();
    }
    let parts = parts.clamp(1, total);
    let mut pieces = Vec::with_capacity(parts);
    let mut start = 0;
    let mut next = 1;
    for (index, (offset, _)) in s.char_indices().enumerate() {
        if next < parts && index == next * total / parts {
            pieces.push(&s[start..offset]);
            start = offset;
            next += 1;
        }
    }
    pieces.push(&s[start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conv<'a>(text: &'a str, tools: Vec<Tool<'a>>) -> Conversation<'a> {
        Conversation {
            model: "m-1",
            stream: false,
            max_tokens: None,
            last_user_text: text,
            tool_result: None,
            tools,
            tool_choice: ToolChoice::Auto,
            thinking: false,
            include_usage: false,
        }
    }

    fn bash_schema() -> Value {
        json!({"type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}},
               "required": ["command"]})
    }

    #[test]
    fn plain_reply_echoes_the_first_80_chars() {
        let long = "x".repeat(100);
        let reply = plan(&conv(&long, vec![]), 10);
        assert_eq!(
            reply.text,
            format!(
                "Hello from the switchyard mock (model m-1). You said: {}",
                "x".repeat(80)
            )
        );
        assert_eq!(
            (reply.stop, reply.input_tokens, reply.output_tokens),
            (Stop::EndTurn, 3, 10)
        );
        assert!(reply.tool.is_none() && reply.thinking.is_none());
    }

    #[test]
    fn run_command_calls_bash() {
        let schema = bash_schema();
        let tools = vec![
            Tool {
                name: "Read",
                schema: None,
            },
            Tool {
                name: "Bash",
                schema: Some(&schema),
            },
        ];
        let reply = plan(&conv("please run: echo switchyard-tool-ok\nthanks", tools), 0);
        assert_eq!(reply.text, "I'll use Bash.");
        assert_eq!(reply.stop, Stop::ToolUse);
        let tool = reply.tool.as_ref().map(|t| (t.name, t.arguments.as_str()));
        assert_eq!(
            tool,
            Some(("Bash", r#"{"command":"echo switchyard-tool-ok","description":"mock"}"#))
        );
        assert_eq!(reply.output_tokens, 3 + 2);
    }

    #[test]
    fn several_run_lines_make_parallel_bash_calls() {
        let schema = bash_schema();
        let tools = vec![Tool {
            name: "Bash",
            schema: Some(&schema),
        }];
        let reply = plan(&conv("run: echo one\nrun: echo two\nrun:\n", tools), 0);
        assert_eq!(reply.text, "I'll use Bash and Bash.");
        let commands: Vec<&Value> = reply
            .tool
            .iter()
            .chain(&reply.more_tools)
            .map(|t| &t.input["command"])
            .collect();
        assert_eq!(commands, ["echo one", "echo two"]);
        assert_eq!(reply.output_tokens, 5 + 2 + 2);
    }

    #[test]
    fn several_run_lines_make_parallel_calls_of_codex_shell_tools_too() {
        let tools = vec![Tool {
            name: "exec_command",
            schema: None,
        }];
        let reply = plan(&conv("run: echo one\nrun: echo two", tools), 0);
        assert_eq!(reply.text, "I'll use exec_command and exec_command.");
        let commands: Vec<&Value> = reply.tool.iter().chain(&reply.more_tools).map(|t| &t.input["cmd"]).collect();
        assert_eq!(commands, ["echo one", "echo two"]);
        // A forced tool that is not a shell makes one call, whatever the text says.
        let mut c = conv(
            "run: echo one\nrun: echo two",
            vec![Tool {
                name: "Read",
                schema: None,
            }],
        );
        c.tool_choice = ToolChoice::Named("Read");
        let reply = plan(&c, 0);
        assert!(reply.tool.is_some() && reply.more_tools.is_empty());
    }

    #[test]
    fn tool_selection_rules() {
        let schema = bash_schema();
        let tools = || {
            vec![
                Tool {
                    name: "Read",
                    schema: None,
                },
                Tool {
                    name: "Bash",
                    schema: Some(&schema),
                },
            ]
        };
        let chosen = |c: Conversation<'_>| plan(&c, 0).tool.map(|t| (t.name.to_owned(), t.arguments));
        // No mention, no run:, auto → no tool; a mention (whole word, case-sensitive) → that tool.
        assert_eq!(chosen(conv("say hi", tools())), None);
        assert_eq!(
            chosen(conv("Read it", tools())),
            Some(("Read".to_owned(), "{}".to_owned()))
        );
        assert_eq!(chosen(conv("ReadMe and read", tools())), None);
        // run: without Bash on offer → nothing.
        assert_eq!(
            chosen(conv(
                "run: ls",
                vec![Tool {
                    name: "Read",
                    schema: None
                }]
            )),
            None
        );
        // Forced choices.
        let mut c = conv("say hi", tools());
        c.tool_choice = ToolChoice::Any;
        assert_eq!(chosen(c.clone()), Some(("Read".to_owned(), "{}".to_owned())));
        c.tool_choice = ToolChoice::Named("Bash");
        assert_eq!(
            chosen(c.clone()),
            Some(("Bash".to_owned(), r#"{"command":"mock"}"#.to_owned()))
        );
        c.tool_choice = ToolChoice::Never;
        c.last_user_text = "run: ls";
        assert_eq!(chosen(c), None);
        // No tools offered → never a tool, even when forced.
        let mut c = conv("run: ls", vec![]);
        c.tool_choice = ToolChoice::Any;
        assert_eq!(chosen(c), None);
    }

    #[test]
    fn tool_result_reply_and_thinking() {
        let schema = bash_schema();
        let mut c = conv(
            "run: ls",
            vec![Tool {
                name: "Bash",
                schema: Some(&schema),
            }],
        );
        c.tool_result = Some("r".repeat(300));
        c.thinking = true;
        let reply = plan(&c, 0);
        assert_eq!(reply.text, format!("Tool result received: {}", "r".repeat(200)));
        assert_eq!(
            reply.thinking,
            Some(format!("Mock reasoning about: {}", "r".repeat(200)))
        );
        assert!(reply.tool.is_none());
        assert_eq!(
            (reply.stop, reply.reasoning_tokens, reply.output_tokens),
            (Stop::EndTurn, 4, 4 + 4)
        );
    }

    #[test]
    fn max_tokens_truncates_and_drops_the_tool() {
        let mut c = conv("say hi", vec![]);
        c.max_tokens = Some(4);
        let reply = plan(&c, 0);
        assert_eq!(
            (reply.text.as_str(), reply.stop, reply.output_tokens),
            ("Hello from the switchyard", Stop::MaxTokens, 4)
        );
        let schema = bash_schema();
        let mut c = conv(
            "run: ls -la",
            vec![Tool {
                name: "Bash",
                schema: Some(&schema),
            }],
        );
        c.max_tokens = Some(4);
        let reply = plan(&c, 0);
        assert_eq!(
            (reply.text.as_str(), reply.stop, reply.tool.is_none()),
            ("I'll use Bash.", Stop::MaxTokens, true)
        );
        c.max_tokens = Some(5);
        assert_eq!(plan(&c, 0).stop, Stop::ToolUse);
    }

    #[test]
    fn text_helpers() {
        assert_eq!(split_even("abcdefgh", 3), vec!["ab", "cde", "fgh"]);
        assert_eq!(split_even("héllo wörld", 4).concat(), "héllo wörld");
        assert_eq!(split_even("ab", 8), vec!["a", "b"]);
        assert_eq!(split_even("abc", 0), vec!["abc"]);
        assert!(split_even("", 8).is_empty());
        let long = "ü".repeat(1000);
        let pieces = split_even(&long, 8);
        assert_eq!(pieces.len(), 8);
        assert!(pieces.iter().all(|p| p.chars().count() == 125));
        assert_eq!(first_chars("añb", 2), "añ");
        assert_eq!(first_chars("ab", 5), "ab");
        assert_eq!(truncate_words("  one two\tthree ", 2), "  one two");
        assert_eq!(truncate_words("one two", 0), "");
        assert_eq!(truncate_words("one two", 9), "one two");
        assert_eq!(words(" a  b\nc "), 3);
        assert_eq!(run_command("do run:   echo hi  \nmore"), Some("echo hi"));
        assert_eq!(run_command("run:   "), None);
        assert!(mentions("use Bash.", "Bash") && !mentions("Bashful", "Bash") && !mentions("x", ""));
    }
}
