//! Printable documents: a commune's attestations, notices and registers, described once as
//! blocks and rendered either as an A4 PDF or as editable plain text.
//!
//! Why a description rather than drawing code per document: the RGPD documents (register entry,
//! information notice, bordereau d'élimination) must exist "as PDF or editable text", and an
//! attestation given to a family must say exactly what the screen says. Writing a document as a
//! [`Document`] of [`Block`]s keeps its words in one place; [`pdf`] lays them out on as many
//! pages as needed (page numbers in the footer) and [`text`] writes the same words as UTF-8 text
//! a word processor opens. The PDF reuses the poster's fonts (DejaVu Sans embedded as a subset,
//! with a ToUnicode map: real, searchable text that a screen reader or `pdftotext` reads) and its
//! line wrapping, and carries the document's title in its metadata.
//!
//! Everything here is pure: no store, no clock. The words are written as given; French
//! typography (no-break spaces before `:` and the like) is the caller's, through
//! [`crate::poster::french_typography`] or [`plain`]/[`bold`].

mod layout;

use jiff::Timestamp;

use crate::error::Result;
pub use crate::poster::text::{bold, plain, Run};
use crate::poster::Logo;

/// Who issues the document, printed at the top of its first page.
#[derive(Debug, Clone, PartialEq)]
pub struct Letterhead {
    pub commune_name: String,
    pub siret: String,
    /// The commune's logo, in the top-left corner.
    pub logo: Option<Logo>,
}

/// A document to print: a letterhead, a title, then blocks from top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's name: its heading and the PDF's title in its metadata.
    pub title: String,
    /// A line under the title (a date, a reference).
    pub subtitle: Option<String>,
    pub letterhead: Letterhead,
    pub blocks: Vec<Block>,
    /// Small print at the bottom of every page, above the page number.
    pub footer: Option<String>,
    /// When it was made, for the PDF's metadata; `None` leaves the epoch there, so the same
    /// document always gives the same bytes.
    pub made_at: Option<Timestamp>,
}

/// One piece of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section's heading: bold in the PDF, underlined with dashes in the text.
    Heading(String),
    /// A paragraph, wrapped to the page; some runs may be bold.
    Paragraph(Vec<Run>),
    /// Labels and their values in two columns ("Code famille" — "4Q2…").
    Fields(Vec<(String, String)>),
    /// A table with a header row; each row has as many cells as there are headers.
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A list of items, each marked with a bullet.
    Bullets(Vec<String>),
    /// "Fait à {place}, le {date}" and, under it, who signs (a name, initials, a function).
    Signature {
        place: String,
        date: String,
        signer: String,
    },
}

impl Block {
    /// A paragraph in one plain run.
    pub fn paragraph(text: &str) -> Block {
        Block::Paragraph(vec![plain(text)])
    }
}

impl Document {
    /// A document with a title and a letterhead, no blocks yet.
    pub fn new(title: &str, letterhead: Letterhead) -> Document {
        Document {
            title: title.to_string(),
            subtitle: None,
            letterhead,
            blocks: Vec::new(),
            footer: None,
            made_at: None,
        }
    }
}

/// The document as a PDF file's bytes: A4 portrait, continued on more pages when the blocks do
/// not fit on one.
pub fn pdf(document: &Document) -> Result<Vec<u8>> {
    layout::render(document)
}

/// How many characters `text` shows (what a monospaced editor aligns on).
fn shown(text: &str) -> usize {
    text.chars().count()
}

fn underlined(out: &mut String, text: &str, mark: char) {
    out.push_str(text);
    out.push('\n');
    out.extend(std::iter::repeat_n(mark, shown(text)));
    out.push('\n');
}

/// Pushes `line` without the spaces padding its end.
fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end());
    out.push('\n');
}

/// The cells of a table row as one line of columns `widths` wide, two spaces apart.
fn columns_line(cells: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    for (index, width) in widths.iter().enumerate() {
        let cell = cells
            .get(index)
            .map(|cell| cell.replace('\n', " "))
            .unwrap_or_default();
        line.push_str(&cell);
        line.extend(std::iter::repeat_n(
            ' ',
            width.saturating_sub(shown(&cell)) + 2,
        ));
    }
    line
}

/// The document as editable text: UTF-8, `\n` line ends, the title underlined with `=` and
/// headings with `-`, fields and tables in aligned columns, paragraphs one line each (the
/// editor wraps them).
pub fn text(document: &Document) -> String {
    let mut out = String::new();
    push_line(&mut out, document.letterhead.commune_name.trim());
    push_line(
        &mut out,
        &format!("SIRET {}", document.letterhead.siret.trim()),
    );
    out.push('\n');
    underlined(&mut out, document.title.trim(), '=');
    if let Some(subtitle) = &document.subtitle {
        push_line(&mut out, subtitle.trim());
    }
    for block in &document.blocks {
        out.push('\n');
        match block {
            Block::Heading(heading) => underlined(&mut out, heading.trim(), '-'),
            Block::Paragraph(runs) => {
                let joined: String = runs.iter().map(|run| run.text.as_str()).collect();
                push_line(&mut out, joined.trim());
            }
            Block::Fields(fields) => {
                let width = fields.iter().map(|(label, _)| shown(label)).max();
                let width = width.unwrap_or(0);
                for (label, value) in fields {
                    let mut lines = value.lines();
                    let first = lines.next().unwrap_or("");
                    push_line(&mut out, &format!("{label:<width$}\u{a0}: {first}"));
                    for more in lines {
                        push_line(&mut out, &format!("{:width$}   {more}", ""));
                    }
                }
            }
            Block::Table { headers, rows } => {
                let mut widths: Vec<usize> = headers.iter().map(|h| shown(h)).collect();
                for row in rows {
                    for (index, cell) in row.iter().enumerate().take(widths.len()) {
                        widths[index] = widths[index].max(shown(&cell.replace('\n', " ")));
                    }
                }
                push_line(&mut out, &columns_line(headers, &widths));
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                push_line(&mut out, &columns_line(&rule, &widths));
                for row in rows {
                    push_line(&mut out, &columns_line(row, &widths));
                }
            }
            Block::Bullets(items) => {
                for item in items {
                    push_line(&mut out, &format!("- {}", item.trim()));
                }
            }
            Block::Signature {
                place,
                date,
                signer,
            } => {
                push_line(
                    &mut out,
                    &format!("Fait à {}, le {}", place.trim(), date.trim()),
                );
                push_line(&mut out, signer.trim());
            }
        }
    }
    if let Some(footer) = &document.footer {
        out.push('\n');
        push_line(&mut out, footer.trim());
    }
    out
}

#[cfg(test)]
mod tests;
