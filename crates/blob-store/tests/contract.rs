//! The blob store contract against a local directory and memory, and what only a
//! directory can show: nothing is left on disk by an upload that did not finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_blob_store::ObjectBlobStore;
use chitchat_domain::attachment::BlobKey;
use chitchat_domain::ports::BlobStore;
use chitchat_testkit::files::files_under as files;
use std::path::Path;

mod directory {
    use super::*;

    async fn store() -> Option<ObjectBlobStore> {
        // Leaked on purpose: the directory must outlive the test's store.
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        Some(ObjectBlobStore::directory(&dir.path().join("attachments")).unwrap())
    }

    chitchat_testkit::blob_store_contract_tests!(store());
}

mod memory {
    use super::*;

    async fn store() -> Option<ObjectBlobStore> {
        Some(ObjectBlobStore::open(Some("memory://"), Path::new("unused")).unwrap())
    }

    chitchat_testkit::blob_store_contract_tests!(store());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_upload_leaves_no_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = ObjectBlobStore::directory(dir.path()).unwrap();
    let mut writer = blobs.put(&BlobKey::raw("originals/x")).await.unwrap();
    writer.write(&vec![7; 6 * 1024 * 1024]).await.unwrap();
    writer.abort().await.unwrap();
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_upload_is_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = ObjectBlobStore::directory(dir.path()).unwrap();
    let mut writer = blobs.put(&BlobKey::raw("originals/y")).await.unwrap();
    writer.write(&vec![7; 6 * 1024 * 1024]).await.unwrap();
    drop(writer);
    // The clean-up runs on the runtime once the writer is dropped; wait for it.
    for _ in 0..100 {
        if files(dir.path()).is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("left behind: {:?}", files(dir.path()));
}

#[test]
fn unknown_storage_urls_are_refused_with_the_variable_named() {
    let err = ObjectBlobStore::open(Some("ftp://host/x"), Path::new("unused")).err().unwrap();
    assert!(err.to_string().contains("STORAGE_URL"), "{err}");
    assert!(ObjectBlobStore::open(Some("s3://"), Path::new("unused")).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_holds_every_finished_file_and_no_upload_in_progress() {
    let (live, copy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let blobs = ObjectBlobStore::directory(live.path()).unwrap();
    for (key, bytes) in
        [("originals/a", vec![1; 10]), ("thumbnails/a", vec![2; 3]), ("originals/b", vec![3; 7_000_000])]
    {
        let mut writer = blobs.put(&BlobKey::raw(key)).await.unwrap();
        writer.write(&bytes).await.unwrap();
        writer.finish().await.unwrap();
    }
    // An upload still being written when the copy runs.
    let mut unfinished = blobs.put(&BlobKey::raw("originals/c")).await.unwrap();
    unfinished.write(&vec![4; 6 * 1024 * 1024]).await.unwrap();

    let target = ObjectBlobStore::directory(copy.path()).unwrap();
    assert_eq!(blobs.copy_all_to(&target).await.unwrap(), (3, 7_000_013));
    let prefix = format!("{}/", copy.path().display());
    let mut copied: Vec<String> = files(copy.path()).iter().map(|f| f.replacen(&prefix, "", 1)).collect();
    copied.sort();
    assert_eq!(copied, vec!["originals/a", "originals/b", "thumbnails/a"]);
    assert_eq!(std::fs::read(copy.path().join("originals/b")).unwrap(), vec![3; 7_000_000]);
    unfinished.abort().await.unwrap();
}
