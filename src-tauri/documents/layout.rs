//! A [`Document`] laid out on A4 pages with the poster's fonts and wrapping.
//!
//! The layout flows from top to bottom: each line is placed where the previous one ended, and a
//! line that would run into the footer starts a new page. What must stay together (a field and
//! its value, a table row, a heading and the line after it) moves to the next page as a whole,
//! and a table carried over repeats its header row. The footer and the page numbers are drawn
//! last, once the number of pages is known.

use printpdf::{LinePoint, Mm, OffsetDateTime, Op, PdfDocument, PdfPage, PdfSaveOptions, Pt};

use super::{Block, Document};
use crate::error::{Code, Error, Result};
use crate::poster::pdf::{
    black, fonts, grey, line_ops, logo_ops, wrap, Frame, Lines, Type, GRID_WIDTH, LOGO_BOX, MARGIN,
};
use crate::poster::text::{plain, Run};

const PAGE_HEIGHT: f32 = 297.0;
/// The width text may use between the margins.
const WIDTH: f32 = GRID_WIDTH - 2.0 * MARGIN;
/// Body text size, in points.
const BODY: f32 = 10.5;
/// Table text size.
const TABLE: f32 = 9.5;
/// Footer text size.
const SMALL: f32 = 8.0;
/// The page number's baseline; the footer's lines end above it.
const PAGE_NUMBER_BASELINE: f32 = 288.0;
/// The first baseline of a continued page, under its running head.
const CONTINUED_TOP: f32 = 24.0;
/// Space between a table's columns.
const COLUMN_GAP: f32 = 4.0;
/// The narrowest label column of a list of fields.
const FIELD_LABEL_MIN: f32 = 40.0;

/// The distance between two baselines at `size` points.
fn leading(size: f32) -> f32 {
    size * 0.47
}

/// Text as one plain run, for wrapping.
fn runs(text: &str) -> Vec<Run> {
    vec![Run {
        text: text.to_string(),
        bold: false,
    }]
}

fn bold_runs(text: &str) -> Vec<Run> {
    vec![Run {
        text: text.to_string(),
        bold: true,
    }]
}

/// The pages being filled, and where the next baseline goes.
struct Flow<'a> {
    face: &'a Type<'a>,
    frame: Frame,
    pages: Vec<Vec<Op>>,
    /// The next line's baseline on the current page (mm from the top).
    baseline: f32,
    /// No baseline may go below this one.
    bottom: f32,
    /// The running head of continued pages.
    running_head: String,
}

impl Flow<'_> {
    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page at least")
    }

    /// Starts a new page when `height` mm of lines (the first baseline included) would not fit.
    /// Returns whether it did.
    fn keep(&mut self, height: f32) -> bool {
        if self.baseline + height <= self.bottom {
            return false;
        }
        self.new_page();
        true
    }

    fn new_page(&mut self) {
        let mut ops = vec![Op::SetFillColor { col: grey() }];
        let head = [(self.running_head.clone(), false)];
        line_ops(&mut ops, &self.frame, self.face, &head, MARGIN, 13.0, SMALL);
        ops.push(Op::SetFillColor { col: black() });
        self.pages.push(ops);
        self.baseline = CONTINUED_TOP;
    }

    /// Draws `line` at `x` on the current baseline.
    fn draw(&mut self, line: &[(String, bool)], x: f32, size: f32) {
        let (frame, face, baseline) = (self.frame, self.face, self.baseline);
        line_ops(self.ops(), &frame, face, line, x, baseline, size);
    }

    /// Wrapped lines from `x`, each on the next baseline, breaking pages between lines.
    fn lines(&mut self, lines: &[Vec<(String, bool)>], x: f32, size: f32) {
        for line in lines {
            self.keep(0.0);
            self.draw(line, x, size);
            self.baseline += leading(size);
        }
    }

    /// A thin horizontal rule from `x0` to `x1`, `offset` mm under the current baseline.
    fn rule(&mut self, x0: f32, x1: f32, offset: f32) {
        let y = self.baseline + offset;
        let frame = self.frame;
        let point = |x: f32| LinePoint {
            p: frame.point(x, y),
            bezier: false,
        };
        let line = printpdf::Line {
            points: vec![point(x0), point(x1)],
            is_closed: false,
        };
        self.ops().extend([
            Op::SaveGraphicsState,
            Op::SetOutlineColor { col: grey() },
            Op::SetOutlineThickness { pt: Pt(0.4) },
            Op::DrawLine { line },
            Op::RestoreGraphicsState,
        ]);
    }

    fn width(&self, text: &str, bold: bool, size: f32) -> f32 {
        self.face.width(text, bold, size)
    }

    fn wrap(&self, runs: &[Run], width: f32, size: f32) -> Lines {
        wrap(runs, width, size, self.face)
    }

    fn heading(&mut self, text: &str) {
        let size = 12.0;
        self.baseline += 2.5;
        let lines = self.wrap(&bold_runs(text.trim()), WIDTH, size);
        // A heading never ends a page: it keeps a body line under it.
        self.keep(leading(size) * lines.len() as f32 + leading(BODY));
        self.lines(&lines, MARGIN, size);
        self.baseline += 1.0;
    }

    fn paragraph(&mut self, paragraph: &[Run]) {
        let lines = self.wrap(paragraph, WIDTH, BODY);
        // A short paragraph stays whole; a long one leaves at least two lines on either page.
        if lines.len() <= 4 {
            self.keep(leading(BODY) * (lines.len().max(1) - 1) as f32);
            self.lines(&lines, MARGIN, BODY);
        } else {
            self.keep(leading(BODY));
            let fit = ((self.bottom - self.baseline) / leading(BODY)).floor() as usize + 1;
            let split = if fit < lines.len() && lines.len() - fit < 2 {
                lines.len() - 2
            } else {
                lines.len()
            };
            self.lines(&lines[..split], MARGIN, BODY);
            if split < lines.len() {
                self.new_page();
                self.lines(&lines[split..], MARGIN, BODY);
            }
        }
    }

    fn fields(&mut self, fields: &[(String, String)]) {
        let widest = fields
            .iter()
            .map(|(label, _)| self.width(label.trim(), false, BODY))
            .fold(0.0, f32::max);
        // A common minimum, so that the short lists of one document line up with each other.
        let label_width = (widest + 5.0).clamp(FIELD_LABEL_MIN, WIDTH * 0.42);
        let value_x = MARGIN + label_width;
        for (label, value) in fields {
            let labels = self.wrap(&runs(label.trim()), label_width - 3.0, BODY);
            let mut values: Lines = Vec::new();
            for part in value.lines() {
                values.extend(self.wrap(&bold_runs(part.trim()), WIDTH - label_width, BODY));
            }
            let count = labels.len().max(values.len()).max(1);
            self.keep(leading(BODY) * (count - 1) as f32);
            let top = self.baseline;
            self.ops().push(Op::SetFillColor { col: grey() });
            self.lines(&labels, MARGIN, BODY);
            self.ops().push(Op::SetFillColor { col: black() });
            self.baseline = top;
            self.lines(&values, value_x, BODY);
            self.baseline = top + leading(BODY) * count as f32 + 0.8;
        }
    }

    /// Each column's width: its natural width when everything fits, otherwise each gets at least
    /// an equal share and the space left goes to the columns that need more, in proportion.
    fn column_widths(&self, headers: &[String], rows: &[Vec<String>]) -> Vec<f32> {
        let count = headers.len().max(1);
        let natural: Vec<f32> = (0..count)
            .map(|index| {
                let header = headers
                    .get(index)
                    .map_or(0.0, |h| self.width(h.trim(), true, TABLE));
                rows.iter()
                    .filter_map(|row| row.get(index))
                    .map(|cell| self.width(cell.trim(), false, TABLE))
                    .fold(header, f32::max)
                    + COLUMN_GAP
            })
            .collect();
        let total: f32 = natural.iter().sum();
        if total <= WIDTH {
            return natural;
        }
        let share = WIDTH / count as f32;
        let base: Vec<f32> = natural.iter().map(|n| n.min(share)).collect();
        let left = WIDTH - base.iter().sum::<f32>();
        let wanting: f32 = natural.iter().zip(&base).map(|(n, b)| n - b).sum();
        natural
            .iter()
            .zip(&base)
            .map(|(n, b)| {
                b + if wanting > 0.0 {
                    left * (n - b) / wanting
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// One table row: each cell wrapped in its column; all its lines on one page.
    fn row(&mut self, cells: &[String], widths: &[f32], bold: bool) {
        let wrapped: Vec<Lines> = widths
            .iter()
            .enumerate()
            .map(|(index, width)| {
                let text = cells.get(index).map_or("", |cell| cell.trim());
                let text = text.replace('\n', " ");
                let runs = if bold { bold_runs(&text) } else { runs(&text) };
                self.wrap(&runs, width - COLUMN_GAP, TABLE)
            })
            .collect();
        let count = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let top = self.baseline;
        let mut x = MARGIN;
        for (lines, width) in wrapped.iter().zip(widths) {
            self.baseline = top;
            self.lines(lines, x, TABLE);
            x += width;
        }
        self.baseline = top + leading(TABLE) * count as f32;
    }

    fn row_height(&self, cells: &[String], widths: &[f32]) -> f32 {
        let count = widths
            .iter()
            .enumerate()
            .map(|(index, width)| {
                let text = cells.get(index).map_or("", |cell| cell.trim());
                self.wrap(&runs(text), width - COLUMN_GAP, TABLE).len()
            })
            .max()
            .unwrap_or(1)
            .max(1);
        leading(TABLE) * (count - 1) as f32
    }

    fn table_header(&mut self, headers: &[String], widths: &[f32]) {
        self.row(headers, widths, true);
        let right = MARGIN + widths.iter().sum::<f32>() - COLUMN_GAP;
        self.rule(MARGIN, right, -leading(TABLE) + 1.2);
        self.baseline += 0.8;
    }

    fn table(&mut self, headers: &[String], rows: &[Vec<String>]) {
        let widths = self.column_widths(headers, rows);
        let header_height = self.row_height(headers, &widths) + leading(TABLE) + 0.8;
        let first_row = rows
            .first()
            .map_or(0.0, |row| self.row_height(row, &widths));
        self.keep(header_height + first_row);
        self.table_header(headers, &widths);
        for row in rows {
            if self.keep(self.row_height(row, &widths)) {
                self.table_header(headers, &widths);
            }
            self.row(row, &widths, false);
            self.baseline += 0.6;
        }
    }

    fn bullets(&mut self, items: &[String]) {
        let indent = 5.0;
        for item in items {
            let lines = self.wrap(&runs(item.trim()), WIDTH - indent, BODY);
            self.keep(0.0);
            self.draw(&[("•".to_string(), false)], MARGIN + 1.0, BODY);
            self.lines(&lines, MARGIN + indent, BODY);
            self.baseline += 0.8;
        }
    }

    fn signature(&mut self, place: &str, date: &str, signer: &str) {
        let x = MARGIN + WIDTH * 0.5;
        let made = format!("Fait à {}, le {}", place.trim(), date.trim());
        let mut lines = self.wrap(&runs(&made), WIDTH * 0.5, BODY);
        lines.extend(self.wrap(&bold_runs(signer.trim()), WIDTH * 0.5, BODY));
        self.baseline += 3.0;
        self.keep(leading(BODY) * (lines.len() - 1) as f32);
        self.lines(&lines, x, BODY);
    }
}

/// The first page's letterhead and title; returns the baseline under them.
fn first_page_top(ops: &mut Vec<Op>, frame: &Frame, face: &Type<'_>, document: &Document) -> f32 {
    let head = &document.letterhead;
    let left = if head.logo.is_some() {
        LOGO_BOX.0 + LOGO_BOX.2 + 4.0
    } else {
        MARGIN
    };
    let name = [(head.commune_name.trim().to_string(), true)];
    line_ops(ops, frame, face, &name, left, 12.0, 13.0);
    ops.push(Op::SetFillColor { col: grey() });
    let siret = [(format!("SIRET {}", head.siret.trim()), false)];
    line_ops(ops, frame, face, &siret, left, 17.5, 9.0);
    ops.push(Op::SetFillColor { col: black() });
    let mut baseline = 34.0;
    let size = 15.0;
    for line in wrap(&bold_runs(document.title.trim()), WIDTH, size, face) {
        let width: f32 = line.iter().map(|(t, b)| face.width(t, *b, size)).sum();
        line_ops(
            ops,
            frame,
            face,
            &line,
            (GRID_WIDTH - width) / 2.0,
            baseline,
            size,
        );
        baseline += leading(size);
    }
    if let Some(subtitle) = &document.subtitle {
        let size = 10.5;
        for line in wrap(&runs(subtitle.trim()), WIDTH, size, face) {
            let width: f32 = line.iter().map(|(t, b)| face.width(t, *b, size)).sum();
            line_ops(
                ops,
                frame,
                face,
                &line,
                (GRID_WIDTH - width) / 2.0,
                baseline,
                size,
            );
            baseline += leading(size);
        }
    }
    baseline + 6.0
}

/// The footer's lines (wrapped) and the page number of page `index` out of `count`.
fn footer_ops(
    ops: &mut Vec<Op>,
    frame: &Frame,
    face: &Type<'_>,
    footer: &Lines,
    (index, count): (usize, usize),
) {
    ops.push(Op::SetFillColor { col: grey() });
    let mut baseline = PAGE_NUMBER_BASELINE - 5.0 - leading(SMALL) * footer.len() as f32;
    for line in footer {
        baseline += leading(SMALL);
        line_ops(ops, frame, face, line, MARGIN, baseline, SMALL);
    }
    let number = format!("page {} / {count}", index + 1);
    let x = GRID_WIDTH - MARGIN - face.width(&number, false, SMALL);
    line_ops(
        ops,
        frame,
        face,
        &[(number, false)],
        x,
        PAGE_NUMBER_BASELINE,
        SMALL,
    );
}

pub(super) fn render(document: &Document) -> Result<Vec<u8>> {
    let fonts = fonts()?;
    let mut pdf = PdfDocument::new(document.title.trim());
    pdf.metadata.info.author = document.letterhead.commune_name.trim().to_string();
    pdf.metadata.info.subject = document.subtitle.clone().unwrap_or_default();
    pdf.metadata.info.creator = "Guichet QF".into();
    if let Some(made_at) = document.made_at {
        if let Ok(date) = OffsetDateTime::from_unix_timestamp(made_at.as_second()) {
            pdf.metadata.info.creation_date = date;
            pdf.metadata.info.modification_date = date;
            pdf.metadata.info.metadata_date = date;
        }
    }
    let face = Type {
        fonts,
        regular: pdf.add_font(&fonts.regular),
        bold: pdf.add_font(&fonts.bold),
    };
    let frame = Frame {
        origin: (0.0, 0.0),
        scale: 1.0,
        page_height: PAGE_HEIGHT,
    };
    let footer = match &document.footer {
        Some(text) if !text.trim().is_empty() => wrap(&[plain(text.trim())], WIDTH, SMALL, &face),
        _ => Vec::new(),
    };
    let mut first = vec![Op::SetFillColor { col: black() }];
    if let Some(logo) = &document.letterhead.logo {
        let id = pdf.add_image(&logo.raw_image());
        logo_ops(&mut first, &frame, logo, &id);
    }
    let top = first_page_top(&mut first, &frame, &face, document);
    let mut flow = Flow {
        face: &face,
        frame,
        pages: vec![first],
        baseline: top,
        bottom: PAGE_NUMBER_BASELINE - 10.0 - leading(SMALL) * footer.len() as f32,
        running_head: format!(
            "{} — {}",
            document.letterhead.commune_name.trim(),
            document.title.trim()
        ),
    };
    for (index, block) in document.blocks.iter().enumerate() {
        if index > 0 {
            flow.baseline += 2.5;
        }
        match block {
            Block::Heading(text) => flow.heading(text),
            Block::Paragraph(runs) => flow.paragraph(runs),
            Block::Fields(fields) => flow.fields(fields),
            Block::Table { headers, rows } => flow.table(headers, rows),
            Block::Bullets(items) => flow.bullets(items),
            Block::Signature {
                place,
                date,
                signer,
            } => flow.signature(place, date, signer),
        }
    }
    let count = flow.pages.len();
    let pages = flow
        .pages
        .into_iter()
        .enumerate()
        .map(|(index, mut ops)| {
            footer_ops(&mut ops, &frame, &face, &footer, (index, count));
            PdfPage::new(Mm(GRID_WIDTH), Mm(PAGE_HEIGHT), ops)
        })
        .collect();
    let mut warnings = Vec::new();
    let bytes = pdf
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        return Err(Error::new(
            Code::Internal,
            format!(
                "Le PDF « {} » n'a pas pu être fabriqué.",
                document.title.trim()
            ),
        ));
    }
    Ok(bytes)
}
