//! What the repository states about itself matches what the code and the lock
//! file really need: the minimum Rust version (workspace `Cargo.toml` and README)
//! covers every locked dependency, and every error code the server can answer
//! with is in the error tables of `docs/api.md`.
//!
//! Neither test needs the network or a running service: `cargo metadata` runs
//! offline on the registry copy the build itself used.

use chitchat_domain::ErrorCode;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// "1.89" or "1.89.0" as (1, 89, 0).
fn version(text: &str) -> (u32, u32, u32) {
    let mut parts = text.trim().split('.').map(|part| part.parse::<u32>().unwrap_or_else(|e| panic!("{text:?}: {e}")));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    (major, minor, patch)
}

fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(rustc).arg("-vV").output().expect("rustc -vV");
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines().find_map(|line| line.strip_prefix("host: ")).expect("rustc -vV names the host").to_owned()
}

/// The workspace's stated minimum, from `[workspace.package] rust-version`.
fn stated_rust_version() -> String {
    let manifest = read(&repository().join("Cargo.toml"));
    let line = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("rust-version"))
        .expect("the workspace Cargo.toml states rust-version");
    line.split('"').nth(1).expect("rust-version = \"…\"").to_owned()
}

#[test]
fn stated_rust_version_covers_every_locked_dependency() {
    let stated = stated_rust_version();

    // Packages of the platform the tests run on: the others are not downloaded,
    // and `--offline` keeps the test off the network.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host_triple()])
        .current_dir(repository())
        .output()
        .expect("cargo metadata");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let resolved: BTreeSet<&str> =
        metadata["resolve"]["nodes"].as_array().unwrap().iter().map(|node| node["id"].as_str().unwrap()).collect();
    let too_new: Vec<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        // Registry and git packages; the workspace's own inherit the stated version.
        .filter(|package| !package["source"].is_null() && resolved.contains(package["id"].as_str().unwrap()))
        .filter_map(|package| {
            let needs = package["rust_version"].as_str()?;
            (version(needs) > version(&stated)).then(|| {
                format!(
                    "{} {} needs Rust {needs}",
                    package["name"].as_str().unwrap(),
                    package["version"].as_str().unwrap()
                )
            })
        })
        .collect();
    assert!(too_new.is_empty(), "Cargo.toml states rust-version {stated}, but: {too_new:#?}");

    // The README tells people which toolchain to install: the same one.
    let readme = read(&repository().join("README.md"));
    let said = readme
        .split("You need a Rust toolchain, ")
        .nth(1)
        .and_then(|rest| rest.split(" or newer").next())
        .expect("README says \"You need a Rust toolchain, X or newer\"");
    assert_eq!(version(said), version(&stated), "README states Rust {said}, Cargo.toml {stated}");
}

// --- error codes -------------------------------------------------------------

/// The crates whose code runs in the server (every crate but test and bench tools).
fn server_sources() -> Vec<PathBuf> {
    const NOT_IN_THE_SERVER: [&str; 3] = ["testkit", "bench", "fuzz-checks"];
    let mut files = Vec::new();
    for entry in std::fs::read_dir(repository().join("crates")).unwrap() {
        let crate_dir = entry.unwrap().path();
        let name = crate_dir.file_name().unwrap().to_string_lossy().into_owned();
        if !NOT_IN_THE_SERVER.contains(&name.as_str()) && crate_dir.join("src").is_dir() {
            rust_files(&crate_dir.join("src"), &mut files);
        }
    }
    files.sort();
    files
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// Rust source with comments blanked out (string literals kept), so that the
/// scanner below sees only code.
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if let Some(end) = literal_end(&chars, i) {
            out.extend(&chars[i..end]);
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Where the string or char literal starting at `i` ends, if one starts there.
fn literal_end(chars: &[char], i: usize) -> Option<usize> {
    let at = |k: usize| chars.get(k).copied();
    // Raw strings: r"…", r#"…"#, br#"…"#.
    let mut k = i;
    if at(k) == Some('b') && at(k + 1) == Some('r') {
        k += 1;
    }
    let starts_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if at(k) == Some('r') && !starts_ident {
        let mut hashes = 0;
        let mut j = k + 1;
        while at(j) == Some('#') {
            hashes += 1;
            j += 1;
        }
        if at(j) == Some('"') {
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|h| at(j + h) == Some('#')) {
                    return Some(j + 1 + hashes);
                }
                j += 1;
            }
            return Some(chars.len());
        }
    }
    match at(i) {
        Some('"') => {
            let mut j = i + 1;
            while j < chars.len() {
                match chars[j] {
                    '\\' => j += 2,
                    '"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
            Some(chars.len())
        }
        // A char literal ('x', '\n', '"'), not a lifetime ('a).
        Some('\'') if at(i + 1) == Some('\\') => (i + 2..chars.len()).find(|&j| chars[j] == '\'').map(|j| j + 1),
        Some('\'') if at(i + 2) == Some('\'') => Some(i + 3),
        _ => None,
    }
}

/// Removes every item marked `#[cfg(test)]`; returns the code left and the names of
/// test-only modules that live in files of their own (`#[cfg(test)] mod name;`).
fn without_tests(code: &str) -> (String, Vec<String>) {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::new();
    let mut test_modules = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        let chars: Vec<char> = rest[start + MARK.len()..].chars().collect();
        let mut i = 0;
        let mut depth = 0usize;
        let mut header = String::new();
        while i < chars.len() {
            if let Some(end) = literal_end(&chars, i) {
                i = end;
                continue;
            }
            match chars[i] {
                '{' | '[' | '(' => depth += 1,
                // The enclosing item ends first: the marked item was a field or an arm.
                '}' | ']' | ')' if depth == 0 => break,
                '}' | ']' | ')' => {
                    depth -= 1;
                    if depth == 0 && chars[i] == '}' {
                        i += 1;
                        break;
                    }
                }
                ',' if depth == 0 => {
                    i += 1;
                    break;
                }
                ';' if depth == 0 => {
                    let words: Vec<&str> = header.split_whitespace().collect();
                    if let Some(at) = words.iter().position(|word| *word == "mod") {
                        test_modules.push(words[at + 1].to_owned());
                    }
                    i += 1;
                    break;
                }
                c if depth == 0 => header.push(c),
                _ => {}
            }
            i += 1;
        }
        let skipped: usize = chars[..i.min(chars.len())].iter().map(|c| c.len_utf8()).sum();
        rest = &rest[start + MARK.len() + skipped..];
    }
    out.push_str(rest);
    (out, test_modules)
}

/// Where the file of module `name` declared in `file` lives.
fn module_files(file: &Path, name: &str) -> [PathBuf; 2] {
    let dir = file.parent().unwrap();
    let stem = file.file_stem().unwrap().to_string_lossy();
    let base = if ["mod", "lib", "main"].contains(&stem.as_ref()) { dir.to_path_buf() } else { dir.join(&*stem) };
    [base.join(format!("{name}.rs")), base.join(name).join("mod.rs")]
}

/// The code of every server source file, test-only code left out.
fn server_code() -> BTreeMap<PathBuf, String> {
    let mut code = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    for file in server_sources() {
        let (kept, test_modules) = without_tests(&without_comments(&read(&file)));
        for module in test_modules {
            test_only.extend(module_files(&file, &module));
        }
        code.insert(file, kept);
    }
    code.retain(|file, _| !test_only.contains(file));
    code
}

/// Every error code the server code names (as `ErrorCode::…`), with one place each is named.
fn error_codes() -> BTreeMap<String, String> {
    let by_variant: BTreeMap<String, &str> =
        ErrorCode::ALL.iter().map(|code| (format!("{code:?}"), code.as_str())).collect();
    let mut codes = BTreeMap::new();
    let mut unreadable = Vec::new();
    for (file, text) in &server_code() {
        let place = file.strip_prefix(repository()).unwrap_or(file).display().to_string();
        for part in text.split("ErrorCode::").skip(1) {
            let variant: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if variant == "ALL" {
                continue;
            }
            match by_variant.get(&variant) {
                Some(code) => {
                    codes.entry((*code).to_owned()).or_insert_with(|| place.clone());
                }
                None => unreadable.push(format!("{place}: ErrorCode::{variant}")),
            }
        }
    }
    assert!(unreadable.is_empty(), "names this test cannot read as an error code: {unreadable:#?}");
    codes
}

/// The codes in the error tables of `docs/api.md`: the rows between the
/// "**Errors**" paragraph and the next section.
fn documented_codes() -> BTreeSet<String> {
    let api = read(&repository().join("docs/api.md"));
    let section = api.split("**Errors**").nth(1).expect("docs/api.md has an **Errors** paragraph");
    let section = section.split("\n## ").next().unwrap();
    let section = section.split("The objects that appear in several answers").next().unwrap();
    section
        .lines()
        .filter(|line| line.starts_with('|'))
        .filter_map(|line| line.split('|').nth(2))
        .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

#[test]
fn every_error_code_the_server_sends_is_in_the_api_docs() {
    let codes = error_codes();
    // The scanner must be finding the codes at all: a few that are certainly sent.
    for known in
        ["chat_not_found", "rate_limited", "invalid_json", "internal_error", "group_changed", "session_revoked"]
    {
        assert!(codes.contains_key(known), "the scan missed {known}: {codes:#?}");
    }
    // Made by code that never answers a client: listed here so they are found
    // (the list cannot go stale) but not required in the API docs.
    let never_sent = [("invalid_region", "only DEFAULT_REGION is parsed as a region, at start-up")];
    for (code, why) in never_sent {
        assert!(codes.contains_key(code), "{code} ({why}) is no longer made: drop it from this list");
    }
    let documented = documented_codes();
    let missing: Vec<String> = codes
        .iter()
        .filter(|(code, _)| !documented.contains(*code) && !never_sent.iter().any(|(never, _)| never == *code))
        .map(|(code, place)| format!("{code} (made in {place})"))
        .collect();
    assert!(missing.is_empty(), "error codes missing from the error tables in docs/api.md: {missing:#?}");
}
