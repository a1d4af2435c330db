//! Every seed and every input the fuzzers kept (fuzz/corpus/<target>/) through the
//! checks the fuzz targets run, so that the normal test run exercises them on the
//! stable toolchain and any committed crash input stays fixed.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no inputs", dir.display());
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect()
}

fn run(target: &str, check: fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "{} fails its checks", path.display());
    }
}

#[test]
fn ws_frame_corpus_passes() {
    run("ws_frame", chitchat_fuzz_checks::ws_frame);
}

#[test]
fn request_bodies_corpus_passes() {
    run("request_bodies", chitchat_fuzz_checks::request_bodies);
}

#[test]
fn phone_corpus_passes() {
    run("phone", chitchat_fuzz_checks::phone);
}
