//! Black-box, as an attacker would try it: fifty uploads at once of a 7000 x 6800
//! PNG of zeros (a few hundred KiB that decode to 136 MiB each). Decodes share
//! the `THUMBNAIL_MEMORY_BUDGET`: the server's peak resident memory stays within
//! its budget plus a fixed allowance, every upload is either stored (201) or
//! refused as busy (503 `media_busy` with `Retry-After`), and some get their
//! thumbnail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitchat_testkit::TestBackend;
use image::{DynamicImage, ImageFormat, RgbImage};
use std::io::Cursor;

const UPLOADS: usize = 50;
const BUDGET_MIB: u64 = 256;
/// Beyond the budget: the running server, fifty uploads in flight, allocator slack.
const ALLOWANCE_MIB: u64 = 192;

/// A field of the server's `/proc/<pid>/status`, in MiB.
fn status_mib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} in {status}"));
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

fn zeros_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::new(width, height))
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_decompression_bombs_at_once_stay_within_the_memory_budget() {
    let budget = (BUDGET_MIB * 1024 * 1024).to_string();
    let server = support::start(TestBackend::Sqlite, &[("THUMBNAIL_MEMORY_BUDGET", budget.as_str())]).await.unwrap();
    let pid = server.pid().unwrap();
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let bomb = zeros_png(7000, 6800);
    assert!(bomb.len() < 1024 * 1024, "a small file: {} bytes", bomb.len());

    let http = reqwest::Client::new();
    let uploads = (0..UPLOADS).map(|i| {
        let part = reqwest::multipart::Part::bytes(bomb.clone()).file_name(format!("bomb-{i}.png"));
        let request = http
            .post(format!("{}/api/attachments", server.base_url))
            .bearer_auth(&asha.token)
            .multipart(reqwest::multipart::Form::new().part("file", part));
        tokio::spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = response.json().await.unwrap();
            (status, retry_after, body)
        })
    });
    let mut answers = Vec::new();
    for upload in uploads.collect::<Vec<_>>() {
        answers.push(upload.await.unwrap());
    }

    let peak = status_mib(pid, "VmHWM:");
    let bound = BUDGET_MIB + ALLOWANCE_MIB;
    let stored = answers.iter().filter(|(status, ..)| *status == 201).count();
    eprintln!("peak resident memory {peak} MiB (bound {bound} MiB); {stored} of {UPLOADS} stored");
    assert!(peak <= bound, "the server peaked at {peak} MiB, over {bound} MiB");
    for (status, retry_after, body) in &answers {
        match status {
            201 => {
                assert_eq!(body["has_thumbnail"], true, "{body}");
                assert_eq!((body["width"].as_u64(), body["height"].as_u64()), (Some(7000), Some(6800)));
            }
            503 => {
                assert_eq!(body["error"]["code"], "media_busy", "{body}");
                assert!(retry_after.is_some(), "503 says when to try again");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(stored >= 1, "some are stored with their thumbnails");
}
