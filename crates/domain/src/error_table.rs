//! The error tables of `docs/api.md` are rendered from [`ErrorCode`]: this test
//! fails when they differ. After changing a code, rewrite them with
//! `CHITCHAT_UPDATE_DOCS=1 cargo test -p chitchat-domain error_table`.

use crate::error_code::{ErrorCode, ErrorUse};
use std::path::PathBuf;

/// The environment variable that makes the test rewrite the tables instead of failing.
const UPDATE_DOCS: &str = "CHITCHAT_UPDATE_DOCS";

const HTTP_TABLE: &str = "error-table:http";
const SOCKET_TABLE: &str = "error-table:socket";

fn api_docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md")
}

/// Every HTTP use of every code, by status; within a status in the order of `ErrorCode::ALL`.
fn http_table() -> String {
    let mut rows: Vec<(u16, ErrorCode, &str)> = ErrorCode::ALL
        .iter()
        .flat_map(|code| code.uses().iter().map(move |usage| (*code, usage)))
        .filter_map(|(code, usage)| match usage {
            ErrorUse::Http(kind, when) => Some((kind.http_status(), code, *when)),
            ErrorUse::Frame(..) => None,
        })
        .collect();
    rows.sort_by_key(|(status, ..)| *status);
    let mut table = String::from("| Status | Codes | When |\n| --- | --- | --- |\n");
    for (status, code, when) in rows {
        table.push_str(&format!("| {status} | `{code}` | {when} |\n"));
    }
    table
}

/// The codes only the WebSocket sends, in the order of `ErrorCode::ALL`.
fn socket_table() -> String {
    let mut table = String::from("| Frame | Codes | When |\n| --- | --- | --- |\n");
    for code in ErrorCode::ALL {
        for usage in code.uses() {
            if let ErrorUse::Frame(frame, when) = usage {
                table.push_str(&format!("| `{frame}` | `{code}` | {when} |\n"));
            }
        }
    }
    table
}

/// `doc` with the text between `<!-- name -->` and `<!-- /name -->` replaced by `content`.
fn with_region(doc: &str, name: &str, content: &str) -> String {
    let (start, end) = (format!("<!-- {name} -->\n"), format!("<!-- /{name} -->"));
    let begin = doc.find(&start).unwrap_or_else(|| panic!("docs/api.md has no {start:?} line")) + start.len();
    let finish = doc[begin..].find(&end).unwrap_or_else(|| panic!("docs/api.md has no {end:?} line")) + begin;
    format!("{}{content}{}", &doc[..begin], &doc[finish..])
}

#[test]
fn error_tables_in_the_api_docs_are_rendered_from_error_code() {
    let path = api_docs();
    let doc = std::fs::read_to_string(&path).unwrap();
    let rendered = with_region(&with_region(&doc, HTTP_TABLE, &http_table()), SOCKET_TABLE, &socket_table());
    if std::env::var_os(UPDATE_DOCS).is_some_and(|value| value == "1") {
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    assert!(
        doc == rendered,
        "the error tables of docs/api.md differ from ErrorCode; rewrite them with \
         {UPDATE_DOCS}=1 cargo test -p chitchat-domain error_table"
    );
}

#[test]
fn codes_are_unique_and_snake_case() {
    let mut seen = std::collections::BTreeSet::new();
    for code in ErrorCode::ALL {
        let text = code.as_str();
        assert!(seen.insert(text), "{text} is listed twice");
        assert!(text.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{text}");
        assert_eq!(serde_json::to_string(code).unwrap(), format!("\"{text}\""));
    }
}
