//! Configuration: one YAML file (or the embedded default) → environment interpolation →
//! the serde file model → the validated internal model the proxy runs on.

pub mod accounting;
mod file;
pub mod internal;
pub mod interpolate;
mod limits;
mod rules;
pub(crate) mod validate;

use std::fmt;
use std::path::Path;

pub use internal::*;
use interpolate::Env;

/// The default config compiled into the binary: what `switchyard` runs with no `--config`.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../conf/default.yaml");
pub const EMBEDDED_NAME: &str = "(embedded default)";

/// A config that cannot be used: which file, which field, and what would be valid.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Loads `path`, or the embedded default when `None`.
pub fn load(path: Option<&Path>, env: &dyn Env) -> Result<Config, ConfigError> {
    match path {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
                file: name.clone(),
                path: String::new(),
                message: format!("cannot read the config file: {e}"),
            })?;
            parse(&text, &name, env)
        }
        None => parse(EMBEDDED_DEFAULT, EMBEDDED_NAME, env),
    }
}

/// Parses and validates config text; `source` names it in errors.
pub fn parse(text: &str, source: &str, env: &dyn Env) -> Result<Config, ConfigError> {
    let fail = |path: String, message: String| ConfigError { file: source.to_string(), path, message };
    let mut tree: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| fail(String::new(), format!("not valid YAML: {e}")))?;
    if tree.is_null() {
        return Err(fail(String::new(), "the file is empty: see conf/example.yaml for a complete example".into()));
    }
    interpolate::interpolate_tree(&mut tree, env).map_err(|e| fail(e.path, e.message))?;
    let file: file::FileConfig = serde_path_to_error::deserialize(tree).map_err(|e| {
        let path = e.path().to_string();
        fail(if path == "." { String::new() } else { path }, e.into_inner().to_string())
    })?;
    validate::validate(file, source, env).map_err(|e| fail(e.path, e.message))
}

#[cfg(test)]
mod tests;
