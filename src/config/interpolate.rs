//! `${VAR}` / `${VAR:-default}` interpolation over the string scalars of a parsed YAML tree.
//! Working on scalars (not the raw text) means a value containing `:` or `#` cannot change
//! the document's structure, and an error can name the field path it happened in.

use serde_yaml::Value;

/// Where environment values come from; a trait so tests do not touch the process environment.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// An interpolation failure at `path` (dotted field path).
#[derive(Debug, PartialEq, Eq)]
pub struct InterpolateError {
    pub path: String,
    pub message: String,
}

/// Replaces every `${...}` in string scalars of `value`, in place.
pub fn interpolate_tree(value: &mut Value, env: &dyn Env) -> Result<(), InterpolateError> {
    walk(value, env, &mut String::new())
}

fn walk(value: &mut Value, env: &dyn Env, path: &mut String) -> Result<(), InterpolateError> {
    match value {
        Value::String(s) => {
            if s.contains('$') {
                *s = interpolate(s, env).map_err(|message| InterpolateError {
                    path: display_path(path),
                    message,
                })?;
            }
            Ok(())
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, env, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key.as_str().unwrap_or("?"));
                walk(item, env, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, env, path),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(top level)".to_string()
    } else {
        path.to_string()
    }
}

/// Interpolates one string. `$$` is a literal `$`; a `$` not followed by `{` stays as it is.
pub fn interpolate(input: &str, env: &dyn Env) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in {input:?}: expected `${{VAR}}` or `${{VAR:-default}}`"))?;
            out.push_str(&expand(&body[..end], env)?);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn expand(expr: &str, env: &dyn Env) -> Result<String, String> {
    let (name, default) = match expr.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (expr, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`${{{expr}}}` is not a valid reference: expected `${{VAR}}` or `${{VAR:-default}}` with VAR made of letters, digits and `_`"
        ));
    }
    match (env.var(name), default) {
        (Some(v), Some(d)) if v.is_empty() => Ok(d.to_string()),
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_string()),
        (None, None) => Err(format!(
            "environment variable {name} is not set (write `${{{name}:-default}}` to give a default)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn plain_default_and_escape() {
        let e = env(&[("A", "x"), ("EMPTY", "")]);
        assert_eq!(interpolate("${A}", &e).unwrap(), "x");
        assert_eq!(interpolate("pre-${A}-post", &e).unwrap(), "pre-x-post");
        assert_eq!(interpolate("${B:-dflt}", &e).unwrap(), "dflt");
        assert_eq!(interpolate("${EMPTY:-dflt}", &e).unwrap(), "dflt");
        assert_eq!(interpolate("${EMPTY}", &e).unwrap(), "");
        assert_eq!(interpolate("${B:-}", &e).unwrap(), "");
        assert_eq!(interpolate("$${A}", &e).unwrap(), "${A}");
        assert_eq!(interpolate("cost $5", &e).unwrap(), "cost $5");
        assert_eq!(interpolate("${B:-http://h:1/v1}", &e).unwrap(), "http://h:1/v1");
    }

    #[test]
    fn errors_say_what_is_valid() {
        let e = env(&[]);
        let err = interpolate("${MISSING}", &e).unwrap_err();
        assert!(err.contains("MISSING is not set"), "{err}");
        assert!(interpolate("${A", &e).unwrap_err().contains("unclosed"));
        assert!(interpolate("${A B}", &e).unwrap_err().contains("not a valid reference"));
    }

    #[test]
    fn tree_errors_carry_the_field_path() {
        let mut v: Value = serde_yaml::from_str("providers:\n  a:\n    keys: [ok, '${NOPE}']\n").unwrap();
        let err = interpolate_tree(&mut v, &env(&[])).unwrap_err();
        assert_eq!(err.path, "providers.a.keys[1]");
    }

    #[test]
    fn values_with_yaml_syntax_do_not_change_structure() {
        let mut v: Value = serde_yaml::from_str("a: '${X}'\nb: 1\n").unwrap();
        interpolate_tree(&mut v, &env(&[("X", "k: v # not a comment")])).unwrap();
        assert_eq!(v["a"].as_str(), Some("k: v # not a comment"));
        assert_eq!(v["b"].as_u64(), Some(1));
    }
}
