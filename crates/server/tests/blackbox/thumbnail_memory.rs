//! Black-box, as an attacker would try it: fifty uploads at once of 7000 x 6800
//! images of zeros, half PNG and half JPEG (files of 1 MiB or so that decode to
//! 136 MiB each). PNGs are thumbnailed row by row; JPEGs are decoded whole
//! within the `THUMBNAIL_MEMORY_BUDGET`. The server's peak resident memory stays
//! within its budget plus a fixed allowance, every upload is either stored (201)
//! or refused as busy (503 `media_busy` with `Retry-After`), and once the burst
//! is over the budget is free again: one of each kind gets its thumbnail. (How
//! many of the burst are stored depends on how busy the machine is, so the test
//! does not count them.)

use crate::support;
use chitchat_testkit::TestBackend;
use image::codecs::jpeg::JpegEncoder;
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
    let png = zeros_png(7000, 6800);
    let mut jpeg = Vec::new();
    JpegEncoder::new(&mut jpeg).encode_image(&RgbImage::new(7000, 6800)).unwrap();
    for bomb in [&png, &jpeg] {
        assert!(bomb.len() < 2 * 1024 * 1024, "a small file: {} bytes", bomb.len());
    }

    let http = reqwest::Client::new();
    let uploads = (0..UPLOADS).map(|i| {
        let (bomb, name) = if i % 2 == 0 { (&png, format!("bomb-{i}.png")) } else { (&jpeg, format!("bomb-{i}.jpg")) };
        let part = reqwest::multipart::Part::bytes(bomb.clone()).file_name(name);
        let request = http
            .post(format!("{}/api/attachments", server.base_url))
            .bearer_auth(&asha.token)
            .multipart(reqwest::multipart::Form::new().part("file", part));
        tokio::spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = response.json().await.unwrap();
            (status, retry_after, body, i % 2 == 0)
        })
    });
    let mut answers = Vec::new();
    for upload in uploads.collect::<Vec<_>>() {
        answers.push(upload.await.unwrap());
    }

    let peak = status_mib(pid, "VmHWM:");
    let bound = BUDGET_MIB + ALLOWANCE_MIB;
    let stored = |png: bool| answers.iter().filter(|(status, .., is_png)| *status == 201 && *is_png == png).count();
    let (pngs, jpegs) = (stored(true), stored(false));
    eprintln!("peak resident memory {peak} MiB (bound {bound} MiB); stored {pngs} PNGs and {jpegs} JPEGs of {UPLOADS}");
    assert!(peak <= bound, "the server peaked at {peak} MiB, over {bound} MiB");
    for (status, retry_after, body, _) in &answers {
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
    for (bomb, name) in [(&png, "after.png"), (&jpeg, "after.jpg")] {
        let stored = api.upload(&asha.token, name, bomb.clone()).await;
        assert_eq!(stored.status, 201, "after the burst, {name} is stored: {:?}", stored.body);
        assert_eq!(stored.body["has_thumbnail"], true, "{:?}", stored.body);
    }
}
