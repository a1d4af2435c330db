//! Photo metadata removed without touching the pixels: the container's
//! segments or chunks are read with `img-parts` and those that describe the
//! photo rather than draw it are dropped; the EXIF orientation is read
//! (`kamadak-exif`) and written back as the only tag of a new, minimal EXIF.

use exif::experimental::Writer;
use exif::{Field, In, Reader, Tag, Value};
use img_parts::jpeg::markers;
use img_parts::png::Png;
use img_parts::webp::WebP;
use img_parts::{Bytes, DynImage, ImageEXIF};

/// PNG chunks that carry metadata: EXIF, text (XMP lives in `iTXt`) and the
/// time of the last change.
const PNG_METADATA: [[u8; 4]; 5] = [*b"eXIf", *b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"];
/// The WebP chunk of XMP (EXIF is replaced through `set_exif`).
const WEBP_XMP: [u8; 4] = *b"XMP ";

/// `bytes` without metadata, or unchanged when they are not a JPEG, PNG or WebP
/// that can be read.
pub(crate) fn strip(bytes: Vec<u8>) -> Vec<u8> {
    let input = Bytes::from(bytes);
    match DynImage::from_bytes(input.clone()) {
        Ok(Some(image)) => Vec::from(stripped(image)),
        Ok(None) => Vec::from(input),
        Err(error) => {
            tracing::info!(%error, "an image's structure cannot be read; stored as uploaded");
            Vec::from(input)
        }
    }
}

fn stripped(mut image: DynImage) -> Bytes {
    let orientation = image.exif().and_then(orientation);
    match &mut image {
        DynImage::Jpeg(jpeg) => jpeg.segments_mut().retain(|segment| keeps_jpeg_segment(segment.marker())),
        DynImage::Png(png) => strip_png(png),
        DynImage::WebP(webp) => strip_webp(webp),
    }
    // Replaces the EXIF of every format (and fixes WebP's header flags).
    image.set_exif(orientation.and_then(minimal_exif));
    image.encoder().bytes()
}

/// JPEG segments that draw the picture stay, with JFIF (APP0), the colour
/// profile and multi-picture index (APP2) and Adobe's colour transform (APP14);
/// EXIF and XMP (APP1), IPTC (APP13), the other application segments and
/// comments go.
fn keeps_jpeg_segment(marker: u8) -> bool {
    let application = (markers::APP0..=markers::APP15).contains(&marker);
    if application {
        matches!(marker, markers::APP0 | markers::APP2 | markers::APP14)
    } else {
        marker != markers::COM
    }
}

fn strip_png(png: &mut Png) {
    for kind in PNG_METADATA {
        png.remove_chunks_by_type(kind);
    }
}

fn strip_webp(webp: &mut WebP) {
    webp.remove_chunks_by_id(WEBP_XMP);
}

/// The EXIF orientation (2 to 8) when it turns or flips the picture.
fn orientation(exif: Bytes) -> Option<u16> {
    let parsed = Reader::new().read_raw(Vec::from(exif)).ok()?;
    let value = parsed.get_field(Tag::Orientation, In::PRIMARY)?.value.get_uint(0)?;
    u16::try_from(value).ok().filter(|o| (2..=8).contains(o))
}

/// An EXIF block (TIFF structure) holding only `orientation`.
fn minimal_exif(orientation: u16) -> Option<Bytes> {
    let field = Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) };
    let mut writer = Writer::new();
    writer.push_field(&field);
    let mut out = std::io::Cursor::new(Vec::new());
    match writer.write(&mut out, false) {
        Ok(()) => Some(Bytes::from(out.into_inner())),
        Err(error) => {
            tracing::warn!(%error, "could not write the orientation; the photo is stored without it");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{DynamicImage, ImageFormat, RgbImage};

    /// An EXIF block with a GPS position, a camera and an orientation.
    fn revealing_exif(orientation: u16) -> Vec<u8> {
        let fields = [
            Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) },
            Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"PhoneCo".to_vec()]) },
            Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"Pocket 9".to_vec()]) },
            Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
            Field {
                tag: Tag::GPSLatitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![(12, 1).into(), (58, 1).into(), (1234, 100).into()]),
            },
        ];
        let mut writer = Writer::new();
        for field in &fields {
            writer.push_field(field);
        }
        let mut out = std::io::Cursor::new(Vec::new());
        writer.write(&mut out, false).unwrap();
        out.into_inner()
    }

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(RgbImage::from_fn(40, 20, |x, _| image::Rgb([x as u8 * 6, 80, 160])));
        let mut bytes = Vec::new();
        match format {
            ImageFormat::Jpeg => JpegEncoder::new(&mut bytes).encode_image(&image).unwrap(),
            other => image.write_to(&mut std::io::Cursor::new(&mut bytes), other).unwrap(),
        }
        bytes
    }

    /// `format` with the revealing EXIF, and XMP or a comment beside it.
    fn with_metadata(format: ImageFormat) -> Vec<u8> {
        let mut image = DynImage::from_bytes(Bytes::from(encoded(format))).unwrap().unwrap();
        image.set_exif(Some(Bytes::from(revealing_exif(6))));
        match &mut image {
            DynImage::Jpeg(jpeg) => {
                let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPSLatitude</x:xmpmeta>";
                let segment = img_parts::jpeg::JpegSegment::new_with_contents(markers::APP1, Bytes::from_static(xmp));
                jpeg.segments_mut().insert(1, segment);
                let comment =
                    img_parts::jpeg::JpegSegment::new_with_contents(markers::COM, Bytes::from_static(b"home"));
                jpeg.segments_mut().insert(1, comment);
            }
            DynImage::Png(png) => {
                let text = img_parts::png::PngChunk::new(*b"tEXt", Bytes::from_static(b"Author\0Asha"));
                let at = png.chunks().len() - 1;
                png.chunks_mut().insert(at, text);
            }
            DynImage::WebP(webp) => {
                let xmp = img_parts::riff::RiffContent::Data(Bytes::from_static(b"<x:xmpmeta>GPS</x:xmpmeta>"));
                webp.chunks_mut().push(img_parts::riff::RiffChunk::new(WEBP_XMP, xmp));
            }
        }
        image.encoder().bytes().to_vec()
    }

    fn exif_of(bytes: &[u8]) -> Option<exif::Exif> {
        Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)).ok()
    }

    #[test]
    fn gps_camera_text_and_xmp_go_and_the_orientation_stays_in_every_format() {
        for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP] {
            let original = with_metadata(format);
            let before = exif_of(&original).unwrap();
            assert!(before.get_field(Tag::GPSLatitude, In::PRIMARY).is_some(), "{format:?}: the test photo has GPS");

            let clean = strip(original.clone());
            assert!(clean.len() < original.len(), "{format:?}");
            let after = exif_of(&clean).unwrap();
            let tags: Vec<Tag> = after.fields().map(|f| f.tag).collect();
            assert_eq!(tags, vec![Tag::Orientation], "{format:?}: only the orientation is left");
            assert_eq!(after.get_field(Tag::Orientation, In::PRIMARY).unwrap().value.get_uint(0), Some(6));
            for leak in [&b"xmpmeta"[..], b"Asha", b"PhoneCo", b"home"] {
                assert!(!clean.windows(leak.len()).any(|w| w == leak), "{format:?} still holds {leak:?}");
            }
            // The picture itself is untouched: it decodes to the same pixels.
            let (a, b) = (image::load_from_memory(&original).unwrap(), image::load_from_memory(&clean).unwrap());
            assert_eq!(a.to_rgb8(), b.to_rgb8(), "{format:?}");
        }
    }

    #[test]
    fn an_upright_photo_keeps_no_exif_at_all() {
        let mut image = DynImage::from_bytes(Bytes::from(encoded(ImageFormat::Jpeg))).unwrap().unwrap();
        image.set_exif(Some(Bytes::from(revealing_exif(1))));
        let clean = strip(image.encoder().bytes().to_vec());
        assert!(exif_of(&clean).is_none());
    }

    #[test]
    fn what_is_not_a_readable_photo_comes_back_unchanged() {
        for bytes in [b"GIF89a not touched".to_vec(), b"\xFF\xD8\xFF\xE1 cut short".to_vec(), Vec::new()] {
            assert_eq!(strip(bytes.clone()), bytes);
        }
    }
}
