//! Image sizes and thumbnails. The header is read first and images larger than
//! `MAX_PIXELS` are only measured, never decoded: a few kilobytes of PNG can
//! describe a 50000 x 50000 bitmap (10 GB).

use chitchat_domain::attachment::{ImageFacts, Thumbnail, THUMBNAIL_MAX_SIDE};
use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// Most pixels decoded for a thumbnail (about a 48-megapixel photo).
pub const MAX_PIXELS: u64 = 48_000_000;
/// Most memory a decoder may allocate at once.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
/// The longest side accepted at all.
const MAX_SIDE: u32 = 20_000;
const JPEG_QUALITY: u8 = 80;

fn reader(bytes: &[u8]) -> Option<ImageReader<Cursor<&[u8]>>> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    Some(reader)
}

/// Width and height from the image's header (the start of the file is enough).
pub(crate) fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    reader(bytes)?.into_dimensions().ok()
}

/// Most memory that decoding the whole image and making its thumbnail takes at
/// once, estimated from its header: the decoded bitmap and what the decoder
/// keeps beside it. A progressive JPEG keeps every coefficient (two bytes a
/// sample) until the end: three times the bitmap; a baseline JPEG a few rows of
/// blocks (measured at a quarter more; half is counted); the others their row
/// buffers (an eighth). The thumbnail itself is small. None when it is not an
/// image this crate reads.
pub(crate) fn decode_cost(bytes: &[u8]) -> Option<u64> {
    if let Some(rows) = crate::png_rows::cost(bytes) {
        return Some(rows);
    }
    let reader = reader(bytes)?;
    let jpeg = reader.format() == Some(ImageFormat::Jpeg);
    let bitmap = reader.into_decoder().ok()?.total_bytes();
    Some(match (jpeg, jpeg && is_progressive_jpeg(bytes)) {
        (true, true) => bitmap.saturating_mul(3),
        (true, false) => bitmap.saturating_add(bitmap / 2),
        _ => bitmap.saturating_add(bitmap / 8),
    })
}

/// Whether a JPEG's frame header says progressive (SOF2, or its arithmetic-coded
/// kin); false when no frame header is found, as for a baseline one.
fn is_progressive_jpeg(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        match marker {
            0xC2 | 0xC6 | 0xCA | 0xCE => return true,
            0xC0 | 0xC1 | 0xC3 | 0xC5 | 0xC7 | 0xC9 | 0xCB | 0xCD | 0xCF => return false,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        at += 2 + length;
    }
    false
}

/// Size (as displayed, EXIF orientation applied) and a thumbnail of a whole
/// image file; only the size when it is too large to decode; None when it is
/// not an image this crate reads.
pub(crate) fn inspect(bytes: &[u8]) -> Option<ImageFacts> {
    let (width, height) = dimensions(bytes)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        tracing::info!(width, height, "image too large to decode; no thumbnail");
        return Some(ImageFacts { width, height, thumbnail: None });
    }
    if crate::png_rows::cost(bytes).is_some() {
        return crate::png_rows::inspect(bytes);
    }
    let mut decoder = reader(bytes)?.into_decoder().ok()?;
    let orientation = decoder.orientation().ok();
    let image = match DynamicImage::from_decoder(decoder) {
        Ok(image) => image,
        Err(error) => {
            tracing::info!(%error, "image could not be decoded");
            return None;
        }
    };
    let (mut width, mut height) = (image.width(), image.height());
    // Turned after shrinking: turning the full image would copy it whole.
    let mut small = shrink(image);
    if let Some(orientation) = orientation {
        small.apply_orientation(orientation);
        if turns_sideways(orientation) {
            (width, height) = (height, width);
        }
    }
    let thumbnail = encode(&small);
    Some(ImageFacts { width, height, thumbnail })
}

/// Whether the orientation swaps width and height.
pub(crate) fn turns_sideways(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// The image scaled down to fit `THUMBNAIL_MAX_SIDE`, aspect kept; a small image
/// as it is (it is re-encoded all the same, which drops its metadata).
fn shrink(image: DynamicImage) -> DynamicImage {
    if image.width() <= THUMBNAIL_MAX_SIDE && image.height() <= THUMBNAIL_MAX_SIDE {
        return image;
    }
    image.thumbnail(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE)
}

/// JPEG for opaque images (small), PNG when there is transparency to keep.
pub(crate) fn encode(image: &DynamicImage) -> Option<Thumbnail> {
    let mut bytes = Vec::new();
    let mime_type = if image.color().has_alpha() {
        image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).ok()?;
        "image/png"
    } else {
        JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY).encode_image(&image.to_rgb8()).ok()?;
        "image/jpeg"
    };
    Some(Thumbnail { mime_type: mime_type.to_owned(), bytes })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_images::png;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn decoded(thumbnail: &Thumbnail) -> DynamicImage {
        image::load_from_memory(&thumbnail.bytes).unwrap()
    }

    #[test]
    fn a_photo_gets_its_size_and_a_jpeg_thumbnail_that_keeps_its_aspect() {
        let photo = png(DynamicImage::ImageRgb8(RgbImage::from_pixel(1000, 500, Rgb([200, 10, 10]))));
        let facts = inspect(&photo).unwrap();
        assert_eq!((facts.width, facts.height), (1000, 500));
        let thumbnail = facts.thumbnail.unwrap();
        assert_eq!(thumbnail.mime_type, "image/jpeg");
        let small = decoded(&thumbnail);
        assert_eq!((small.width(), small.height()), (320, 160));
    }

    #[test]
    fn transparency_is_kept_in_a_png_thumbnail_and_small_images_are_not_enlarged() {
        let icon = png(DynamicImage::ImageRgba8(RgbaImage::from_pixel(40, 100, Rgba([0, 0, 0, 0]))));
        let thumbnail = inspect(&icon).unwrap().thumbnail.unwrap();
        assert_eq!(thumbnail.mime_type, "image/png");
        let small = decoded(&thumbnail);
        assert_eq!((small.width(), small.height()), (40, 100));
    }

    #[test]
    fn a_decompression_bomb_is_measured_but_never_decoded() {
        // 15000 x 15000: a tiny PNG header announcing 225 megapixels.
        let mut header = png(DynamicImage::ImageRgb8(RgbImage::new(1, 1)));
        header[16..20].copy_from_slice(&15_000u32.to_be_bytes());
        header[20..24].copy_from_slice(&15_000u32.to_be_bytes());
        let crc = crc32(&header[12..29]);
        header[29..33].copy_from_slice(&crc.to_be_bytes());
        let facts = inspect(&header).unwrap();
        assert_eq!((facts.width, facts.height, facts.thumbnail), (15_000, 15_000, None));
    }

    #[test]
    fn a_progressive_jpeg_is_counted_at_three_times_its_bitmap() {
        let mut baseline = Vec::new();
        JpegEncoder::new(&mut baseline).encode_image(&RgbImage::new(100, 100)).unwrap();
        assert_eq!(decode_cost(&baseline), Some(30_000 + 15_000));
        // The same frame header marked progressive (SOF2).
        let sof = baseline.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let mut progressive = baseline.clone();
        progressive[sof + 1] = 0xC2;
        assert!(is_progressive_jpeg(&progressive) && !is_progressive_jpeg(&baseline));
        assert_eq!(decode_cost(&progressive), Some(90_000));
    }

    #[test]
    fn not_an_image_is_none_and_a_header_alone_gives_the_size() {
        assert!(inspect(b"%PDF-1.7 hello").is_none());
        let photo = png(DynamicImage::ImageRgb8(RgbImage::new(64, 48)));
        assert_eq!(dimensions(&photo[..photo.len() - 12]), Some((64, 48)), "without its end");
    }

    /// The CRC of a PNG chunk (type and data), to forge a header.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffff_u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
