//! Property tests of the upload checks, fed any bytes: sniffing and image
//! decoding never panic, and the PDF scan gives the same answer however
//! the file arrives in chunks, finding an active name however it is
//! escaped and wherever a chunk cuts it.

use proptest::prelude::*;

use super::{PdfScan, check_head, clean_image};

const TYPES: &[&str] = &[
    "text/plain",
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/zip",
    "",
];

/// Bytes rich in what PDF names are made of.
fn pdf_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"/#0123456789abcdefABCDEFJavScriptLunchEmbdF XR()<>[]{}%\n"
        .iter()
        .copied()
        .chain([0u8, 0xff, 0x80])
        .collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..400)
}

fn scan(chunks: &[&[u8]]) -> Option<String> {
    let mut scan = PdfScan::default();
    for chunk in chunks {
        scan.feed(chunk);
    }
    scan.finish()
}

/// `bytes` cut at `cuts` (positions taken modulo its length, in order).
fn cut<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut from = 0;
    for point in points {
        chunks.push(&bytes[from..point]);
        from = point;
    }
    chunks.push(&bytes[from..]);
    chunks
}

/// `name` with some of its characters written as `#xx` escapes.
fn escaped(name: &str, which: &[bool]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, b) in name.bytes().enumerate() {
        if which.get(i).copied().unwrap_or(false) {
            out.extend_from_slice(format!("#{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

proptest! {
    #[test]
    fn sniffing_any_head_never_panics(
        declared in prop::sample::select(TYPES),
        head in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let _ = check_head(declared, &head);
    }

    #[test]
    fn plain_words_are_text(words in "[A-Za-z0-9 ,.!?\n]{1,300}") {
        prop_assert_eq!(check_head("text/plain", words.as_bytes()), Ok(()));
    }

    #[test]
    fn markup_is_never_text(
        before in "[a-z ]{0,50}",
        tag in prop::sample::select(&["<svg", "<SCRIPT", "<html", "<!DOCTYPE", "<iframe"][..]),
    ) {
        let head = format!("{before}{tag}>");
        prop_assert!(check_head("text/plain", head.as_bytes()).is_err());
    }

    #[test]
    fn the_pdf_scan_does_not_depend_on_the_chunks(
        bytes in pdf_bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        prop_assert_eq!(scan(&cut(&bytes, &cuts)), scan(&[&bytes]));
    }

    #[test]
    fn an_active_name_is_found_however_escaped_and_cut(
        before in pdf_bytes(),
        name in prop::sample::select(&["JavaScript", "JS", "Launch", "RichMedia", "EmbeddedFile", "XFA"][..]),
        which in prop::collection::vec(any::<bool>(), 12),
        delimiter in prop::sample::select(&[" ", "(", "<<", "/", "\n", ""][..]),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut bytes = before;
        // A name starts after a delimiter (the noise may end inside one).
        bytes.extend_from_slice(b" /");
        bytes.extend_from_slice(&escaped(name, &which));
        bytes.extend_from_slice(delimiter.as_bytes());
        let found = scan(&cut(&bytes, &cuts));
        prop_assert!(found.is_some(), "/{} not found", name);
    }
}

/// The first bytes of each image type, so decoding gets past the header.
const SIGNATURES: &[&[u8]] = &[
    b"",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBPVP8 ",
];

proptest! {
    // Decoding is slower: a quarter of the cases.
    #![proptest_config(ProptestConfig::with_cases(ProptestConfig::default().cases / 4))]

    #[test]
    fn decoding_any_bytes_as_an_image_refuses_them_or_keeps_an_image(
        declared in prop::sample::select(&["image/png", "image/jpeg", "image/gif", "image/webp"][..]),
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        signature in prop::sample::select(SIGNATURES),
    ) {
        let mut file = signature.to_vec();
        file.extend_from_slice(&bytes);
        if let Ok(clean) = clean_image(declared, &file) {
            prop_assert!(!clean.bytes.is_empty() && !clean.thumbnail.is_empty());
        }
    }
}
