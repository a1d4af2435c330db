//! Thumbnails of PNG images decoded row by row. A PNG that is not interlaced
//! gives its rows in order, so each row is averaged into the thumbnail as it
//! comes (a box filter) and dropped: the memory needed is one row and the
//! thumbnail, not the whole bitmap (136 MiB for 7000 x 6800 pixels).

use chitchat_domain::attachment::{ImageFacts, THUMBNAIL_MAX_SIDE};
use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer};
use std::io::Cursor;

/// Most memory the row decoder may allocate (rows, inflate state, metadata).
const DECODER_LIMIT: usize = 16 * 1024 * 1024;
/// What the decoder holds besides the rows: inflate's window and tables, a
/// few chunks' worth of buffers.
const DECODER_STATE: u64 = 1024 * 1024;

/// The thumbnail's size: the image scaled to fit `THUMBNAIL_MAX_SIDE`, aspect kept.
fn fit(width: u32, height: u32) -> (u32, u32) {
    let scale = f64::from(THUMBNAIL_MAX_SIDE) / f64::from(width.max(height));
    let side = |s: u32| ((f64::from(s) * scale).round() as u32).clamp(1, THUMBNAIL_MAX_SIDE);
    (side(width), side(height))
}

fn reader(bytes: &[u8]) -> Option<png::Reader<Cursor<&[u8]>>> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_limits(png::Limits { bytes: DECODER_LIMIT });
    decoder.read_info().ok()
}

/// Memory a row-by-row thumbnail of this PNG takes, when it can be made that
/// way: a PNG, not interlaced, larger than a thumbnail. None otherwise.
pub(crate) fn cost(bytes: &[u8]) -> Option<u64> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return None;
    }
    let reader = reader(bytes)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    if info.interlaced || (width <= THUMBNAIL_MAX_SIDE && height <= THUMBNAIL_MAX_SIDE) {
        return None;
    }
    let row = u64::try_from(reader.output_line_size(width)?).ok()?;
    let thumbnail = u64::from(THUMBNAIL_MAX_SIDE) * u64::from(THUMBNAIL_MAX_SIDE) * 4;
    // The row twice (the decoder's and the previous one it unfilters against), the
    // sums for one thumbnail row, the thumbnail, and the decoder's own state.
    Some(row * 2 + u64::from(THUMBNAIL_MAX_SIDE) * 4 * 4 + thumbnail * 2 + DECODER_STATE)
}

/// Size (as displayed) and thumbnail of a PNG that `cost` accepted; None when
/// its rows cannot be read.
pub(crate) fn inspect(bytes: &[u8]) -> Option<ImageFacts> {
    let mut reader = reader(bytes)?;
    let (width, height) = (reader.info().width, reader.info().height);
    let orientation = reader.info().exif_metadata.as_deref().and_then(Orientation::from_exif_chunk);
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let (thumb_width, thumb_height) = fit(width, height);
    let thumb_row = thumb_width as usize * channels;
    // Which thumbnail column each image column falls in, and how many fall in each.
    let column_of: Vec<usize> =
        (0..width).map(|x| (u64::from(x) * u64::from(thumb_width) / u64::from(width)) as usize).collect();
    let mut per_column = vec![0u32; thumb_width as usize];
    for &column in &column_of {
        per_column[column] += 1;
    }
    let mut pixels = Vec::with_capacity(thumb_row * thumb_height as usize);
    let mut sums = vec![0u32; thumb_row];
    let (mut current, mut rows_in_current) = (0u64, 0u32);
    let flush = |sums: &mut [u32], rows: u32, pixels: &mut Vec<u8>| {
        for (i, sum) in sums.iter_mut().enumerate() {
            let count = per_column[i / channels] * rows.max(1);
            pixels.push(((*sum + count / 2) / count.max(1)) as u8);
            *sum = 0;
        }
    };
    for y in 0..height {
        let row = match reader.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return None,
            Err(error) => {
                tracing::info!(%error, "PNG rows could not be decoded");
                return None;
            }
        };
        let target = u64::from(y) * u64::from(thumb_height) / u64::from(height);
        if target != current {
            flush(&mut sums, rows_in_current, &mut pixels);
            (current, rows_in_current) = (target, 0);
        }
        rows_in_current += 1;
        for (x, pixel) in row.data().chunks_exact(channels).enumerate() {
            let base = column_of[x] * channels;
            for (sum, &sample) in sums[base..base + channels].iter_mut().zip(pixel) {
                *sum += u32::from(sample);
            }
        }
    }
    flush(&mut sums, rows_in_current, &mut pixels);
    let mut small = match color {
        png::ColorType::Grayscale => {
            DynamicImage::ImageLuma8(ImageBuffer::from_raw(thumb_width, thumb_height, pixels)?)
        }
        png::ColorType::GrayscaleAlpha => {
            DynamicImage::ImageLumaA8(ImageBuffer::from_raw(thumb_width, thumb_height, pixels)?)
        }
        png::ColorType::Rgb => DynamicImage::ImageRgb8(ImageBuffer::from_raw(thumb_width, thumb_height, pixels)?),
        png::ColorType::Rgba => DynamicImage::ImageRgba8(ImageBuffer::from_raw(thumb_width, thumb_height, pixels)?),
        png::ColorType::Indexed => return None,
    };
    let (mut width, mut height) = (width, height);
    if let Some(orientation) = orientation {
        small.apply_orientation(orientation);
        if crate::thumbnail::turns_sideways(orientation) {
            (width, height) = (height, width);
        }
    }
    let thumbnail = crate::thumbnail::encode(&small);
    Some(ImageFacts { width, height, thumbnail })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_images::png;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    #[test]
    fn a_large_png_is_averaged_row_by_row_into_its_thumbnail() {
        // Left half red, right half blue: the thumbnail keeps both halves.
        let image = RgbImage::from_fn(2000, 1000, |x, _| if x < 1000 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) });
        let bytes = png(DynamicImage::ImageRgb8(image));
        assert!(cost(&bytes).unwrap() < 2 * 1024 * 1024, "far less than the 6 MB bitmap");
        let facts = inspect(&bytes).unwrap();
        assert_eq!((facts.width, facts.height), (2000, 1000));
        let thumbnail = image::load_from_memory(&facts.thumbnail.unwrap().bytes).unwrap().to_rgb8();
        assert_eq!(thumbnail.dimensions(), (320, 160));
        let (left, right) = (thumbnail.get_pixel(10, 80), thumbnail.get_pixel(310, 80));
        assert!(left[0] > 200 && left[2] < 50, "{left:?}");
        assert!(right[2] > 200 && right[0] < 50, "{right:?}");
    }

    #[test]
    fn transparency_survives_and_small_or_foreign_images_are_left_to_the_full_decoder() {
        let bytes = png(DynamicImage::ImageRgba8(RgbaImage::from_pixel(900, 400, Rgba([0, 0, 0, 0]))));
        let thumbnail = inspect(&bytes).unwrap().thumbnail.unwrap();
        assert_eq!(thumbnail.mime_type, "image/png");
        assert!(cost(&png(DynamicImage::ImageRgb8(RgbImage::new(300, 200)))).is_none(), "small");
        assert!(cost(b"\xff\xd8\xff\xe0 a JPEG").is_none());
    }
}
