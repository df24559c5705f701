//! A clone of this repository must stand on its own: nothing in it may read or point at files
//! beside it (the `shared/` folder the project was started with is not part of a user's clone).
//! Every fixture, tool and doc the tests, benches and load tests use lives in the repository.

use std::path::{Path, PathBuf};

/// Directories that are build output or tool state, not the project's own files.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "node_modules", "out", "__pycache__", ".venv"];

fn project_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                project_files(&path, found);
            }
        } else {
            found.push(path);
        }
    }
}

/// The spellings a reference to the outside folder takes; assembled here so this file does not match itself.
fn outside_references() -> Vec<String> {
    let shared = ["sha", "red"].concat();
    vec![
        format!("../{shared}"),
        format!("/work/{shared}"),
        format!("{shared}/fixtures"),
        format!("{shared}/docs"),
        format!("{shared}/tools"),
        format!("{shared}/hooks"),
    ]
}

#[test]
fn no_file_refers_to_anything_beside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    project_files(root, &mut files);
    assert!(files.len() > 50, "walked only {} files under {}", files.len(), root.display());
    let needles = outside_references();
    let mut offenders = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else { continue }; // binary files
        for (n, line) in text.lines().enumerate() {
            if let Some(needle) = needles.iter().find(|needle| line.contains(needle.as_str())) {
                offenders.push(format!("{}:{}: `{needle}`", file.strip_prefix(root).unwrap_or(file).display(), n + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "files that point outside the repository:\n{}", offenders.join("\n"));
}

#[test]
fn every_capture_the_fixture_readme_names_is_in_the_repository() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let readme = std::fs::read_to_string(fixtures.join("README.md")).expect("tests/fixtures/README.md");
    let named: Vec<&str> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`').map(|(name, _)| name))
        .collect();
    assert!(named.len() >= 5, "the README names {named:?}");
    for name in &named {
        let path = fixtures.join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let capture: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(capture["body"].is_object() && capture["headers"].is_object(), "{name} is a capture with headers and body");
    }
    let mut on_disk: Vec<PathBuf> = Vec::new();
    project_files(&fixtures, &mut on_disk);
    for path in on_disk.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let relative = path.strip_prefix(&fixtures).unwrap_or(path).to_string_lossy().into_owned();
        assert!(named.contains(&relative.as_str()), "{relative} is not described in tests/fixtures/README.md");
    }
}
