//! Black-box: a photo's metadata does not travel. A JPEG carrying a GPS
//! position, the camera and XMP is uploaded; what is downloaded has no EXIF but
//! its orientation, no XMP, and the same picture.

use crate::support;
use chitchat_testkit::TestBackend;
use exif::experimental::Writer;
use exif::{Field, In, Reader, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::{Bytes, ImageEXIF};

/// A 60 x 40 JPEG that tells where (GPS) and with what (camera) it was taken,
/// turned a quarter (EXIF orientation 6: shown 40 x 60), with an XMP packet.
fn revealing_photo() -> Vec<u8> {
    let pixels = RgbImage::from_fn(60, 40, |x, y| Rgb([(x * 4) as u8, (y * 6) as u8, 120]));
    let mut plain = Vec::new();
    JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&pixels).unwrap();
    let fields = [
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![6]) },
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"PhoneCo".to_vec()]) },
        Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"Pocket 9".to_vec()]) },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![(12, 1).into(), (58, 1).into(), (1234, 100).into()]),
        },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![(77, 1).into(), (35, 1).into(), (4321, 100).into()]),
        },
    ];
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut exif = std::io::Cursor::new(Vec::new());
    writer.write(&mut exif, false).unwrap();
    let mut jpeg = Jpeg::from_bytes(Bytes::from(plain)).unwrap();
    jpeg.set_exif(Some(Bytes::from(exif.into_inner())));
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>12,58.2N</exif:GPSLatitude></x:xmpmeta>";
    jpeg.segments_mut().insert(1, JpegSegment::new_with_contents(markers::APP1, Bytes::from_static(xmp)));
    jpeg.encoder().bytes().to_vec()
}

fn exif_of(bytes: &[u8]) -> exif::Exif {
    Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)).expect("EXIF")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_photo_loses_its_location_and_camera_but_keeps_its_orientation() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let (asha, bilal, chat) = api.asha_and_ravi_in_a_chat().await;
    let original = revealing_photo();
    assert!(exif_of(&original).get_field(Tag::GPSLatitude, In::PRIMARY).is_some(), "the test photo has GPS");

    let uploaded = api.upload(&asha.token, "from-home.jpg", original.clone()).await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
    let info = uploaded.body;
    assert_eq!((info["kind"].as_str(), info["mime_type"].as_str()), (Some("image"), Some("image/jpeg")));
    assert_eq!((info["width"].as_i64(), info["height"].as_i64()), (Some(40), Some(60)), "shown turned");
    let id = info["id"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "chat_id": chat, "content_type": "image", "content": "", "attachment_ids": [id] });
    assert_eq!(api.post("/api/messages", &asha.token, body).await.status, 201);

    let response = api.get_raw(&format!("/api/attachments/{id}"), &bilal.token, &[]).await;
    assert_eq!(response.status(), 200);
    let received = response.bytes().await.unwrap().to_vec();
    assert_eq!(info["size"].as_u64(), Some(received.len() as u64), "the size told is the size served");
    assert!(received.len() < original.len());

    let exif = exif_of(&received);
    let tags: Vec<Tag> = exif.fields().map(|field| field.tag).collect();
    assert_eq!(tags, vec![Tag::Orientation], "no GPS, camera or any other tag");
    assert_eq!(exif.get_field(Tag::Orientation, In::PRIMARY).unwrap().value.get_uint(0), Some(6));
    for leak in [&b"xmpmeta"[..], b"PhoneCo", b"Pocket 9"] {
        assert!(!received.windows(leak.len()).any(|w| w == leak), "still holds {:?}", String::from_utf8_lossy(leak));
    }
    let (before, after) = (image::load_from_memory(&original).unwrap(), image::load_from_memory(&received).unwrap());
    assert_eq!(before.to_rgb8(), after.to_rgb8(), "the very same pixels: nothing was re-encoded");
}
