//! What an uploaded file must be to be kept: what its declared type says,
//! and nothing active. Text must be text (not markup a browser would run),
//! PDFs must not carry scripts or launch actions, and images are decoded
//! whole and written anew — which refuses a valid header followed by
//! anything else (a PNG signature before HTML), drops metadata such as a
//! photo's location, and yields a thumbnail.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits};

/// Images larger than this on a side are refused (decoding them would
/// need more memory than a request should take).
const MAX_SIDE: u32 = 12_000;
/// Memory decoding one image may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// The longest side of a thumbnail.
pub const THUMBNAIL_SIDE: u32 = 256;

/// Whether files of `content_type` are decoded and written anew.
pub fn is_image(content_type: &str) -> bool {
    image_format(content_type).is_some()
}

fn image_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Checks the first bytes of a file against its declared type.
pub fn check_head(declared: &str, head: &[u8]) -> Result<(), String> {
    let found = infer::get(head).map(|kind| kind.mime_type());
    let matches = match declared {
        // Text has no signature: it must not look like something else, must
        // be UTF-8 (a character cut at the end of the sample is fine), and
        // must not be markup a browser would render and run.
        "text/plain" => {
            let utf8 = std::str::from_utf8(head).map_or_else(|e| e.error_len().is_none(), |_| true);
            // A two-byte signature (`BM` is a bitmap) says nothing about
            // text without control characters: "BMW is…" stays text.
            let printable = !head
                .iter()
                .any(|&b| b.is_ascii_control() && !b"\t\n\r\x0c".contains(&b));
            (found.is_none() || printable) && utf8 && !looks_like_markup(head)
        }
        _ => found == Some(declared),
    };
    if matches {
        return Ok(());
    }
    Err(match found {
        Some(found) => format!("the file is {found}, not {declared}"),
        None => format!("the file is not {declared}"),
    })
}

fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    [
        "<svg",
        "<script",
        "<html",
        "<!doctype",
        "<?xml",
        "<iframe",
        "<object",
        "<body",
    ]
    .iter()
    .any(|tag| text.contains(tag))
}

/// Names in a PDF that make it do things when opened.
const ACTIVE_PDF_NAMES: &[&[u8]] = &[
    b"JavaScript",
    b"JS",
    b"Launch",
    b"RichMedia",
    b"EmbeddedFile",
    b"XFA",
];

/// Looks through a PDF as it streams by for active names (`/JavaScript`,
/// also written with `#xx` escapes such as `/J#61vaScript`). Names inside
/// compressed object streams are not seen: such files are refused only if
/// their plain parts name an action.
#[derive(Default)]
pub struct PdfScan {
    /// The end of the previous chunk, so a name split across chunks is seen.
    carry: Vec<u8>,
    found: Option<String>,
}

impl PdfScan {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.found.is_some() {
            return;
        }
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        let mut i = 0;
        while i < window.len() {
            if window[i] != b'/' {
                i += 1;
                continue;
            }
            let start = i + 1;
            let mut end = start;
            while end < window.len() && !is_pdf_delimiter(window[end]) {
                end += 1;
            }
            if end == window.len() {
                // Perhaps cut by the chunk: look again with the next one.
                self.carry = window[i..].iter().copied().take(128).collect();
                return;
            }
            let name = decode_name(&window[start..end]);
            if ACTIVE_PDF_NAMES.contains(&name.as_slice()) {
                self.found = Some(String::from_utf8_lossy(&name).into_owned());
                return;
            }
            i = end;
        }
    }

    /// The active name found, if any (a name ending the file counts too).
    pub fn finish(mut self) -> Option<String> {
        if self.found.is_none() && !self.carry.is_empty() {
            let carry = std::mem::take(&mut self.carry);
            self.feed(&carry);
            self.feed(b" ");
        }
        self.found
    }
}

fn is_pdf_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b)
}

fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && let Some(byte) = raw
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// An image as it is kept.
pub struct CleanImage {
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub thumbnail_type: &'static str,
}

/// Decodes `bytes` whole as `content_type` and writes it anew (without its
/// metadata), with a thumbnail. Slow: run it off the async runtime.
pub fn clean_image(content_type: &str, bytes: &[u8]) -> Result<CleanImage, String> {
    let format = image_format(content_type).ok_or("not an image type")?;
    let refused =
        |error: image::ImageError| format!("the file is not a readable {content_type}: {error}");
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.clone());
    let mut out = Cursor::new(Vec::new());
    let first = if format == ImageFormat::Gif {
        // Every frame is decoded and written again: animations stay.
        use image::AnimationDecoder as _;
        let mut decoder =
            image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(refused)?;
        // The GIF decoder starts without limits: a few bytes declaring a
        // 60,000 px square canvas would have it fill gigabytes.
        decoder.set_limits(limits).map_err(refused)?;
        let mut frames = Vec::new();
        let mut kept: u64 = 0;
        for frame in decoder.into_frames() {
            let frame = frame.map_err(refused)?;
            // Each frame is a whole canvas: their sum is what decoding takes.
            kept += frame.buffer().as_raw().len() as u64;
            if kept > MAX_DECODE_BYTES {
                return Err(format!(
                    "the animation needs more than {} MiB to decode",
                    MAX_DECODE_BYTES >> 20
                ));
            }
            frames.push(frame);
        }
        let first = frames
            .first()
            .map(|frame| DynamicImage::ImageRgba8(frame.buffer().clone()))
            .ok_or("the GIF has no frames")?;
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .map_err(refused)?;
        encoder.encode_frames(frames).map_err(refused)?;
        drop(encoder);
        first
    } else {
        let mut decoder = reader.into_decoder().map_err(refused)?;
        let orientation = decoder.orientation().map_err(refused)?;
        let mut decoded = DynamicImage::from_decoder(decoder).map_err(refused)?;
        // The orientation lived in the metadata being dropped: apply it.
        decoded.apply_orientation(orientation);
        match format {
            ImageFormat::Jpeg => {
                let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
                decoded
                    .to_rgb8()
                    .write_with_encoder(encoder)
                    .map_err(refused)?;
            }
            ImageFormat::WebP => {
                let encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
                decoded
                    .to_rgba8()
                    .write_with_encoder(encoder)
                    .map_err(refused)?;
            }
            _ => decoded
                .write_to(&mut out, ImageFormat::Png)
                .map_err(refused)?,
        }
        decoded
    };
    let small = first.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let mut thumbnail = Cursor::new(Vec::new());
    let thumbnail_type = if format == ImageFormat::Jpeg {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut thumbnail, 85);
        small
            .to_rgb8()
            .write_with_encoder(encoder)
            .map_err(refused)?;
        "image/jpeg"
    } else {
        small
            .write_to(&mut thumbnail, ImageFormat::Png)
            .map_err(refused)?;
        "image/png"
    };
    Ok(CleanImage {
        bytes: out.into_inner(),
        thumbnail: thumbnail.into_inner(),
        thumbnail_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::new_rgb8(width, height)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn an_image_is_written_anew_with_a_thumbnail() {
        let clean = clean_image("image/png", &png(800, 400)).unwrap();
        let thumb = image::load_from_memory(&clean.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (256, 128));
        assert!(image::load_from_memory(&clean.bytes).is_ok());
    }

    #[test]
    fn a_png_signature_before_html_is_refused() {
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert!(clean_image("image/png", &fake).is_err());
    }

    #[test]
    fn a_gif_declaring_a_huge_canvas_is_refused_before_it_is_drawn() {
        // Found by the fuzz: 13 bytes made the decoder fill 15 GB.
        let mut bomb = b"GIF89a".to_vec();
        bomb.extend_from_slice(&60_000_u16.to_le_bytes());
        bomb.extend_from_slice(&60_000_u16.to_le_bytes());
        bomb.extend_from_slice(&[0, 0, 0]);
        bomb.extend_from_slice(b",\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;");
        let refused = clean_image("image/gif", &bomb).err().unwrap_or_default();
        assert!(refused.contains("limit"), "{refused}");
    }

    #[test]
    fn text_that_begins_like_a_signature_is_text() {
        // Found by the fuzz: "BM" is the bitmap signature.
        assert_eq!(check_head("text/plain", b"BMW drivers club notes"), Ok(()));
        assert!(check_head("text/plain", b"BM\x36\x00\x0c\x00\x00\x00").is_err());
    }

    #[test]
    fn markup_is_not_text() {
        let svg = b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"></svg>";
        assert!(check_head("text/plain", svg).is_err());
        assert!(check_head("text/plain", b"a plain note, 3 < 4").is_ok());
    }

    #[test]
    fn pdf_actions_are_found_even_escaped_or_split() {
        for pdf in [
            &b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"[..],
            &b"%PDF-1.7\n1 0 obj << /OpenAction << /S /J#61vaScript >> >>"[..],
        ] {
            let mut scan = PdfScan::default();
            let (a, b) = pdf.split_at(pdf.len() / 2 + 3);
            scan.feed(a);
            scan.feed(b);
            assert!(scan.finish().is_some(), "{}", String::from_utf8_lossy(pdf));
        }
        let mut plain = PdfScan::default();
        plain.feed(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n");
        assert_eq!(plain.finish(), None);
    }
}

#[cfg(test)]
#[path = "content_fuzz.rs"]
mod fuzz;
