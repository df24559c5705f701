//! What a model name may contain. A name travels further than the JSON body it arrives in: into the
//! `x-switchyard-target` response header, log lines, and — for providers that put the model in the URL —
//! a request path. A control character (CR, LF, NUL, …) cannot appear in any of those, so a name carrying
//! one is the client's error: it is refused with a 400 before anything is sent upstream, instead of
//! reaching a provider (and being paid for) and failing on the way back as a 500. Config names are held
//! to the same rule, so every name the router can produce is safe to put in a header.

/// The longest model name accepted, in characters (provider-qualified names such as
/// `openrouter/nousresearch/hermes-3-llama-3.1-405b:free` are well under 100).
pub const MAX_MODEL_NAME_CHARS: usize = 256;

/// Why a model name was refused; the message says what is wrong and what would be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadModelName(pub String);

impl std::fmt::Display for BadModelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Accepts a model name made of printable characters (any script), at most [`MAX_MODEL_NAME_CHARS`] long.
/// Control characters — C0 (CR, LF, NUL, TAB, …), DEL and C1 — are refused, naming the first one found.
pub fn check_model_name(name: &str) -> Result<(), BadModelName> {
    if let Some((position, c)) = name.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(BadModelName(format!(
            "`model` contains the control character U+{:04X} at character {position}: a model name is printable text such as `claude-sonnet-4-5` or `openrouter/z-ai/glm-4.5-air` (GET /v1/models lists the ones you may use)",
            u32::from(c)
        )));
    }
    let length = name.chars().count();
    if length > MAX_MODEL_NAME_CHARS {
        return Err(BadModelName(format!(
            "`model` is {length} characters long: model names are at most {MAX_MODEL_NAME_CHARS} characters (GET /v1/models lists the ones you may use)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_of_any_script_pass() {
        for name in [
            "claude-sonnet-4-5",
            "openrouter/z-ai/glm-4.5-air",
            "ollama/qwen3:8b",
            "模型-1",
            "a b",
            "../x",
            &"m".repeat(MAX_MODEL_NAME_CHARS),
        ] {
            assert_eq!(check_model_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn control_characters_are_named_with_their_position() {
        let err = check_model_name("claude\r\nx-injected: 1").unwrap_err().0;
        assert!(err.contains("U+000D at character 6"), "{err}");
        for bad in ["a\0b", "a\tb", "a\u{7f}", "a\u{85}b", "\nx"] {
            assert!(check_model_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn overlong_names_are_refused() {
        let err = check_model_name(&"é".repeat(MAX_MODEL_NAME_CHARS + 1))
            .unwrap_err()
            .0;
        assert!(err.contains("257 characters long"), "{err}");
    }
}
