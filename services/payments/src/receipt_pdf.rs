//! A receipt as a one-page PDF: Helvetica (one of the base fonts every
//! reader has, so nothing is embedded) in WinAnsi encoding; characters it
//! cannot show (a title in another script) are shown as `?`.

use frevix_platform::money::Money;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::escrow::Held;
use crate::receipts::Receipt;

/// `text` in WinAnsi (Latin-1 for what receipts hold), `?` for the rest.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .ok()
                .filter(|b| *b >= 0x20)
                .unwrap_or(b'?')
        })
        .collect()
}

fn amount(currency: &str, minor_units: i64) -> String {
    Money::from_stored(currency, minor_units)
        .map_or_else(|| format!("{currency} {minor_units}"), |m| m.to_string())
}

/// The receipt's lines of text, top to bottom.
pub fn text(receipt: &Receipt) -> Vec<(f32, String)> {
    let money = |minor| amount(&receipt.currency, minor);
    let date = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let subject = match receipt.held {
        Held::Milestone(id) => format!("Milestone {id}"),
        Held::Invoice(id) => format!("Invoice {id}"),
    };
    let mut lines = vec![
        (20.0, "Frevix receipt".to_owned()),
        (11.0, format!("Receipt {}", receipt.id)),
        (11.0, format!("Contract {}", receipt.contract)),
        (11.0, subject),
        (11.0, format!("For: {}", receipt.description)),
        (11.0, format!("Charge: {}", receipt.charge)),
        (11.0, String::new()),
        (
            13.0,
            format!("Paid {}: {}", date(receipt.paid_at), money(receipt.paid)),
        ),
        (11.0, String::new()),
    ];
    for line in &receipt.lines {
        lines.push((
            11.0,
            format!(
                "{}  {}: {}",
                date(line.at),
                line.description,
                money(line.amount)
            ),
        ));
    }
    lines.extend([
        (11.0, String::new()),
        (
            11.0,
            format!("Released to the freelancer: {}", money(receipt.released)),
        ),
        (
            11.0,
            format!("Frevix's fee (included): {}", money(receipt.fee)),
        ),
        (11.0, format!("Refunded: {}", money(receipt.refunded))),
        (
            11.0,
            format!("Still in escrow: {}", money(receipt.in_escrow)),
        ),
    ]);
    lines
}

/// The receipt as PDF bytes.
pub fn render(receipt: &Receipt) -> Vec<u8> {
    let (catalog, pages, page, font, contents) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    let font_name = Name(b"F1");
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut writer = pdf.page(page);
    writer
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(pages)
        .contents(contents);
    writer.resources().fonts().pair(font_name, font);
    writer.finish();
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let mut content = Content::new();
    let mut y = 780.0;
    for (size, line) in text(receipt) {
        if !line.is_empty() {
            content.begin_text();
            content.set_font(font_name, size);
            content.next_line(56.0, y);
            content.show(Str(&latin1(&line)));
            content.end_text();
        }
        y -= size + 8.0;
    }
    pdf.stream(contents, &content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_winansi_cannot_show_becomes_a_question_mark() {
        assert_eq!(latin1("Café ☕\n"), b"Caf\xe9 ??".to_vec());
    }
}
