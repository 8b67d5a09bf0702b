//! The poster as a print-ready PDF (printpdf 0.12).
//!
//! One layout, drawn on an A4 design grid in millimetres and scaled to the page: A3 is A4 × √2,
//! the A5 flyer A4 × 148/210, and "2 flyers A5 sur une page A4" two flyers side by side on an A4
//! landscape page with a dashed cutting line. The QR code is one polygon with one ring per
//! horizontal run of dark modules (non-zero fill: no seams, no raster), its quiet zone left white.
//! DejaVu Sans (regular and bold, shipped in `fonts/`) is embedded as a subset, with a ToUnicode
//! map so the text can be copied.

use std::sync::OnceLock;

use printpdf::{
    Color, FontId, LineDashPattern, LinePoint, Mm, OffsetDateTime, Op, PaintMode, ParsedFont,
    PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, RawImage,
    RawImageData, RawImageFormat, Rgb, TextItem, WindingOrder, XObjectId, XObjectTransform,
};

use super::text::{self, Run};
use super::{form_url, Format, PosterRequest, QrMatrix, QUIET_ZONE};
use crate::error::{Code, Error, Result};

static REGULAR_TTF: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");

/// Width of the design grid (A4 portrait), in mm.
pub(crate) const GRID_WIDTH: f32 = 210.0;
/// Left and right margins on the grid.
pub(crate) const MARGIN: f32 = 15.0;
/// Side of the QR code on the grid (dark modules, quiet zone excluded): 9 cm on A4.
const QR_SIDE: f32 = 90.0;
/// Top of the QR code on the grid.
const QR_TOP: f32 = 72.0;
/// Where the footer's first line sits on the grid; the body must end above it.
const FOOTER_TOP: f32 = 281.0;

/// Largest logo file accepted.
pub const LOGO_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Largest logo side accepted, in pixels.
const LOGO_MAX_PIXELS: u32 = 4000;
/// Largest logo side drawn, in pixels: about 300 dpi in its 24 mm box, and a small PDF.
const LOGO_DRAWN_PIXELS: u32 = 300;
/// The logo's box on the grid: top-left corner, width, height (mm). It ends above the commune's
/// name whenever the name is shrunk, and beside it otherwise.
pub(crate) const LOGO_BOX: (f32, f32, f32, f32) = (MARGIN, 5.0, 24.0, 14.0);

/// A commune logo, decoded and flattened on white (RGB, 8 bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

/// The picture formats a logo may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpeg,
}

impl LogoKind {
    /// Recognises a file by its first bytes, whatever its name says.
    pub fn sniff(bytes: &[u8]) -> Option<LogoKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(LogoKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(LogoKind::Jpeg)
        } else {
            None
        }
    }

    /// How the store and the file names call it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogoKind::Png => "png",
            LogoKind::Jpeg => "jpeg",
        }
    }
}

impl Logo {
    /// The pixels as a PDF image.
    pub(crate) fn raw_image(&self) -> RawImage {
        RawImage {
            pixels: RawImageData::U8(self.rgb.clone()),
            width: self.width as usize,
            height: self.height as usize,
            data_format: RawImageFormat::RGB8,
            tag: Vec::new(),
        }
    }

    /// Checks and decodes a logo chosen by the agent, PNG or JPEG: at most 2 MB and 4 000 pixels
    /// a side. The messages say what to do, since the agent picked the file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Logo> {
        if bytes.len() > LOGO_MAX_BYTES {
            return Err(Error::validation(format!(
                "Le logo pèse {} Ko : 2 Mo au plus. Enregistrez-le plus petit.",
                bytes.len() / 1024
            )));
        }
        let (width, height, rgb) =
            match LogoKind::sniff(bytes) {
                Some(LogoKind::Png) => decode_png(bytes)?,
                Some(LogoKind::Jpeg) => decode_jpeg(bytes)?,
                None => return Err(Error::validation(
                    "Ce fichier n'est pas une image PNG ou JPEG : choisissez le logo au format \
                     PNG ou JPEG.",
                )),
            };
        Ok(Logo { width, height, rgb }.reduced(LOGO_DRAWN_PIXELS))
    }

    /// Averages blocks of pixels until no side exceeds `max` pixels.
    fn reduced(self, max: u32) -> Logo {
        let factor = self.width.max(self.height).div_ceil(max) as usize;
        if factor <= 1 {
            return self;
        }
        let (width, height) = (self.width as usize, self.height as usize);
        let (new_width, new_height) = (width.div_ceil(factor), height.div_ceil(factor));
        let mut rgb = Vec::with_capacity(new_width * new_height * 3);
        for block_y in 0..new_height {
            for block_x in 0..new_width {
                let mut sum = [0u32; 3];
                let mut count = 0;
                for y in block_y * factor..((block_y + 1) * factor).min(height) {
                    for x in block_x * factor..((block_x + 1) * factor).min(width) {
                        let at = (y * width + x) * 3;
                        for (channel, total) in sum.iter_mut().enumerate() {
                            *total += u32::from(self.rgb[at + channel]);
                        }
                        count += 1;
                    }
                }
                rgb.extend(sum.map(|total| (total / count) as u8));
            }
        }
        Logo {
            width: new_width as u32,
            height: new_height as u32,
            rgb,
        }
    }
}

fn too_large(width: u32, height: u32) -> Error {
    Error::validation(format!(
        "Le logo mesure {width} × {height} pixels : 4 000 au plus de chaque côté."
    ))
}

/// A PNG logo as RGB pixels, transparency flattened on white.
fn decode_png(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    let unreadable = || Error::validation("Ce fichier n'est pas une image PNG lisible.");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|_| unreadable())?;
    let (width, height) = (reader.info().width, reader.info().height);
    if width > LOGO_MAX_PIXELS || height > LOGO_MAX_PIXELS {
        return Err(too_large(width, height));
    }
    let mut pixels = vec![0; reader.output_buffer_size().ok_or_else(unreadable)?];
    let frame = reader.next_frame(&mut pixels).map_err(|_| unreadable())?;
    pixels.truncate(frame.buffer_size());
    let over_white = |value: u8, alpha: u8| {
        let (value, alpha) = (u32::from(value), u32::from(alpha));
        ((value * alpha + 255 * (255 - alpha)) / 255) as u8
    };
    let rgb = match frame.color_type {
        png::ColorType::Rgb => pixels,
        png::ColorType::Rgba => pixels
            .chunks(4)
            .flat_map(|p| [0, 1, 2].map(|i| over_white(p[i], p[3])))
            .collect(),
        png::ColorType::Grayscale => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => pixels
            .chunks(2)
            .flat_map(|p| [over_white(p[0], p[1]); 3])
            .collect(),
        png::ColorType::Indexed => return Err(unreadable()),
    };
    Ok((width, height, rgb))
}

/// A JPEG logo as RGB pixels (grayscale and CMYK files converted by the decoder).
fn decode_jpeg(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options};
    let unreadable = || Error::validation("Ce fichier n'est pas une image JPEG lisible.");
    let options = options::DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(LOGO_MAX_PIXELS as usize)
        .set_max_height(LOGO_MAX_PIXELS as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|error| {
        let (width, height) = decoder.dimensions().unwrap_or((0, 0));
        if width > LOGO_MAX_PIXELS as usize || height > LOGO_MAX_PIXELS as usize {
            too_large(width as u32, height as u32)
        } else {
            unreadable().with_source(std::io::Error::other(format!("{error:?}")))
        }
    })?;
    let (width, height) = decoder.dimensions().ok_or_else(unreadable)?;
    let rgb = decoder.decode().map_err(|_| unreadable())?;
    if rgb.len() != width * height * 3 {
        return Err(unreadable());
    }
    Ok((width as u32, height as u32, rgb))
}

/// Where a QR code is printed, in mm from the page's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub left_mm: f32,
    pub top_mm: f32,
    /// Side of the dark modules' square, quiet zone excluded.
    pub side_mm: f32,
}

/// A flyer or poster drawn at `scale` from the grid, its top-left corner at `origin` (mm).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) origin: (f32, f32),
    pub(crate) scale: f32,
    pub(crate) page_height: f32,
}

impl Frame {
    /// A point of the grid, in PDF coordinates (points, from the bottom-left corner).
    pub(crate) fn point(&self, x: f32, y: f32) -> Point {
        Point::new(
            Mm(self.origin.0 + x * self.scale),
            Mm(self.page_height - (self.origin.1 + y * self.scale)),
        )
    }

    pub(crate) fn size(&self, points: f32) -> Pt {
        Pt(points * self.scale)
    }
}

impl Format {
    /// The frames the format prints, each a copy of the layout.
    fn frames(self) -> Vec<Frame> {
        let (width, height) = self.page_mm();
        match self {
            Format::A4 | Format::A3 | Format::A5 => vec![Frame {
                origin: (0.0, 0.0),
                scale: width / GRID_WIDTH,
                page_height: height,
            }],
            Format::A5x2 => {
                let half = width / 2.0;
                [0.0, half]
                    .into_iter()
                    .map(|left| Frame {
                        origin: (left, 0.0),
                        scale: half / GRID_WIDTH,
                        page_height: height,
                    })
                    .collect()
            }
        }
    }

    /// Where the QR codes of this format are printed (two for [`Format::A5x2`]).
    pub fn qr_placements(self) -> Vec<Placement> {
        self.frames()
            .into_iter()
            .map(|frame| Placement {
                left_mm: frame.origin.0 + (GRID_WIDTH - QR_SIDE) / 2.0 * frame.scale,
                top_mm: frame.origin.1 + QR_TOP * frame.scale,
                side_mm: QR_SIDE * frame.scale,
            })
            .collect()
    }
}

pub(crate) struct Fonts {
    pub(crate) regular: ParsedFont,
    pub(crate) bold: ParsedFont,
}

pub(crate) fn fonts() -> Result<&'static Fonts> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new())?,
                bold: ParsedFont::from_bytes(BOLD_TTF, 0, &mut Vec::new())?,
            })
        })
        .as_ref()
        .ok_or_else(|| Error::new(Code::Internal, "La police de l'affiche est illisible."))
}

/// The fonts as the page uses them, with their metrics.
pub(crate) struct Type<'a> {
    pub(crate) fonts: &'a Fonts,
    pub(crate) regular: FontId,
    pub(crate) bold: FontId,
}

impl Type<'_> {
    fn font(&self, bold: bool) -> &ParsedFont {
        if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    /// Width of `text` at `size` points, in mm (before the frame's scale).
    pub(crate) fn width(&self, text: &str, bold: bool, size: f32) -> f32 {
        let font = self.font(bold);
        let units = f32::from(font.font_metrics.units_per_em.max(1));
        let space = font.lookup_glyph_index(' ' as u32).unwrap_or(0);
        let advance: f32 = text
            .chars()
            .map(|c| {
                let glyph = font.lookup_glyph_index(c as u32).unwrap_or(space);
                f32::from(font.get_horizontal_advance(glyph))
            })
            .sum();
        advance / units * size * 25.4 / 72.0
    }

    fn handle(&self, bold: bool) -> PdfFontHandle {
        PdfFontHandle::External(if bold {
            self.bold.clone()
        } else {
            self.regular.clone()
        })
    }
}

/// Lines of runs, each line a list of (text, bold) pieces.
pub(crate) type Lines = Vec<Vec<(String, bool)>>;

/// Breaks runs into lines no wider than `width` mm at `size` points.
pub(crate) fn wrap(runs: &[Run], width: f32, size: f32, face: &Type<'_>) -> Lines {
    // Words keep their trailing space; a no-break space never breaks.
    let mut words: Vec<(String, bool)> = Vec::new();
    for run in runs {
        let mut word = String::new();
        for c in run.text.chars() {
            word.push(c);
            if c == ' ' {
                words.push((std::mem::take(&mut word), run.bold));
            }
        }
        if !word.is_empty() {
            words.push((word, run.bold));
        }
    }
    let mut lines: Lines = vec![Vec::new()];
    let mut used = 0.0;
    for (word, bold) in words {
        let visible = face.width(word.trim_end(), bold, size);
        let full = face.width(&word, bold, size);
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && used + visible > width {
            lines.push(vec![(word, bold)]);
            used = full;
        } else {
            match line.last_mut() {
                Some((text, same)) if *same == bold => text.push_str(&word),
                _ => line.push((word, bold)),
            }
            used += full;
        }
    }
    for line in &mut lines {
        if let Some((text, _)) = line.last_mut() {
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
        }
    }
    lines
}

/// Draws one line of pieces with its left end at grid `(x, baseline)`.
pub(crate) fn line_ops(
    ops: &mut Vec<Op>,
    frame: &Frame,
    face: &Type<'_>,
    pieces: &[(String, bool)],
    x: f32,
    baseline: f32,
    size: f32,
) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetTextCursor {
        pos: frame.point(x, baseline),
    });
    for (text, bold) in pieces {
        ops.push(Op::SetFont {
            font: face.handle(*bold),
            size: frame.size(size),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text.clone())],
        });
    }
    ops.push(Op::EndTextSection);
}

/// Draws `text` centred on the grid, shrunk (down to `min_size`) to fit the width, wrapped
/// beyond; returns the baseline after the last line.
#[allow(clippy::too_many_arguments)]
fn centred(
    ops: &mut Vec<Op>,
    frame: &Frame,
    face: &Type<'_>,
    text: &str,
    bold: bool,
    size: f32,
    min_size: f32,
    baseline: f32,
) -> f32 {
    let width = GRID_WIDTH - 2.0 * MARGIN;
    centred_in(
        ops,
        frame,
        face,
        text,
        (bold, size, min_size),
        baseline,
        width,
    )
}

/// [`centred`] within `width` mm; `style` is (bold, size, smallest size).
fn centred_in(
    ops: &mut Vec<Op>,
    frame: &Frame,
    face: &Type<'_>,
    text: &str,
    (bold, size, min_size): (bool, f32, f32),
    baseline: f32,
    width: f32,
) -> f32 {
    let mut size = size;
    while size > min_size && face.width(text, bold, size) > width {
        size -= 0.5;
    }
    let runs = [Run {
        text: text.to_string(),
        bold,
    }];
    let leading = size * 0.42;
    let mut baseline = baseline;
    for line in wrap(&runs, width, size, face) {
        let line_width: f32 = line
            .iter()
            .map(|(text, bold)| face.width(text, *bold, size))
            .sum();
        line_ops(
            ops,
            frame,
            face,
            &line,
            (GRID_WIDTH - line_width) / 2.0,
            baseline,
            size,
        );
        baseline += leading;
    }
    baseline - leading
}

/// The QR code as one polygon of dark runs, its top-left corner at grid `(left, top)`.
pub(super) fn qr_ops(
    ops: &mut Vec<Op>,
    frame: &Frame,
    matrix: &QrMatrix,
    (left, top): (f32, f32),
    side: f32,
) {
    let module = side / matrix.width as f32;
    let rings = matrix
        .dark_runs()
        .into_iter()
        .map(|(row, column, length)| {
            let x0 = left + column as f32 * module;
            let x1 = left + (column + length) as f32 * module;
            let y0 = top + row as f32 * module;
            let y1 = top + (row + 1) as f32 * module;
            PolygonRing {
                points: [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
                    .into_iter()
                    .map(|(x, y)| LinePoint {
                        p: frame.point(x, y),
                        bezier: false,
                    })
                    .collect(),
            }
        })
        .collect();
    ops.push(Op::SetFillColor { col: black() });
    ops.push(Op::DrawPolygon {
        polygon: Polygon {
            rings,
            mode: PaintMode::Fill,
            winding_order: WindingOrder::NonZero,
        },
    });
}

pub(crate) fn black() -> Color {
    Color::Rgb(Rgb {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        icc_profile: None,
    })
}

pub(crate) fn grey() -> Color {
    Color::Rgb(Rgb {
        r: 0.35,
        g: 0.35,
        b: 0.35,
        icc_profile: None,
    })
}

/// The body below the QR at `size` points; returns the baseline after it.
fn body_ops(
    ops: &mut Vec<Op>,
    frame: &Frame,
    face: &Type<'_>,
    body: &text::Body,
    start: f32,
    size: f32,
) -> f32 {
    let leading = size * 0.47;
    let gap = size * 0.25;
    let mut baseline = start;
    let indent = 8.0;
    let width = GRID_WIDTH - 2.0 * MARGIN;
    for (index, step) in body.steps.iter().enumerate() {
        line_ops(
            ops,
            frame,
            face,
            &[(format!("{}.", index + 1), true)],
            MARGIN + 1.0,
            baseline,
            size,
        );
        for line in wrap(step, width - indent, size, face) {
            line_ops(ops, frame, face, &line, MARGIN + indent, baseline, size);
            baseline += leading;
        }
        baseline += gap;
    }
    let paragraphs = body.good_to_know.iter().chain([&body.no_franceconnect]);
    for paragraph in paragraphs {
        baseline += gap;
        for line in wrap(paragraph, width, size, face) {
            line_ops(ops, frame, face, &line, MARGIN, baseline, size);
            baseline += leading;
        }
    }
    baseline
}

/// One poster (or flyer) in `frame`.
fn poster_ops(
    frame: &Frame,
    face: &Type<'_>,
    request: &PosterRequest,
    matrix: &QrMatrix,
    logo: Option<(&Logo, &XObjectId)>,
) -> Result<Vec<Op>> {
    let mut ops = vec![Op::SetFillColor { col: black() }];
    if let Some((logo, id)) = logo {
        logo_ops(&mut ops, frame, logo, id);
    }
    // With a logo in the corner, the name keeps clear of it on both sides.
    let name_width = match logo {
        Some(_) => GRID_WIDTH - 2.0 * (LOGO_BOX.0 + LOGO_BOX.2 + 2.0),
        None => GRID_WIDTH - 2.0 * MARGIN,
    };
    centred_in(
        &mut ops,
        frame,
        face,
        request.commune_name.trim(),
        (true, 30.0, 14.0),
        26.0,
        name_width,
    );
    let services = text::french_typography(request.services.trim());
    if !services.is_empty() {
        centred(&mut ops, frame, face, &services, false, 17.0, 11.0, 36.0);
    }
    let after = centred(
        &mut ops,
        frame,
        face,
        &text::headline(),
        true,
        17.0,
        14.0,
        49.0,
    );
    debug_assert!(after < 60.0, "the headline fits in two lines");
    ops.push(Op::SetFillColor { col: grey() });
    centred(
        &mut ops,
        frame,
        face,
        &text::scan_prompt(),
        false,
        11.0,
        9.0,
        64.0,
    );
    let left = (GRID_WIDTH - QR_SIDE) / 2.0;
    qr_ops(&mut ops, frame, matrix, (left, QR_TOP), QR_SIDE);
    let quiet = QR_SIDE / matrix.width as f32 * QUIET_ZONE as f32;
    ops.push(Op::SetFillColor { col: black() });
    let link_baseline = QR_TOP + QR_SIDE + quiet + 3.5;
    centred(
        &mut ops,
        frame,
        face,
        &text::link_line(request)?,
        true,
        12.0,
        9.0,
        link_baseline,
    );
    // The largest body size whose text ends above the footer.
    let body = text::body(request);
    let start = link_baseline + 10.0;
    let mut size = 13.0;
    let mut body_ops_at = Vec::new();
    while size >= 9.0 {
        body_ops_at.clear();
        let end = body_ops(&mut body_ops_at, frame, face, &body, start, size);
        if end - size * 0.47 < FOOTER_TOP - 5.0 {
            break;
        }
        size -= 0.5;
    }
    ops.extend(body_ops_at);
    ops.push(Op::SetFillColor { col: grey() });
    centred(
        &mut ops,
        frame,
        face,
        &body.footer,
        false,
        9.0,
        7.5,
        FOOTER_TOP + 3.0,
    );
    Ok(ops)
}

/// The poster of `request` as a PDF file's bytes.
pub fn render(request: &PosterRequest) -> Result<Vec<u8>> {
    request.validate()?;
    let matrix = QrMatrix::encode(&form_url(&request.siret)?)?;
    let fonts = fonts()?;
    let title = format!(
        "Affiche quotient familial — {}",
        request.commune_name.trim()
    );
    let mut document = PdfDocument::new(&title);
    if let Ok(date) = OffsetDateTime::from_unix_timestamp(request.date.as_second()) {
        document.metadata.info.creation_date = date;
        document.metadata.info.modification_date = date;
        document.metadata.info.metadata_date = date;
    }
    let face = Type {
        fonts,
        regular: document.add_font(&fonts.regular),
        bold: document.add_font(&fonts.bold),
    };
    let logo = request
        .logo
        .as_ref()
        .map(|logo| (logo, document.add_image(&logo.raw_image())));
    let mut ops = Vec::new();
    for frame in request.format.frames() {
        let logo = logo.as_ref().map(|(logo, id)| (*logo, id));
        ops.extend(poster_ops(&frame, &face, request, &matrix, logo)?);
    }
    let (width, height) = request.format.page_mm();
    if request.format == Format::A5x2 {
        ops.extend(cutting_line(width, height));
    }
    let page = PdfPage::new(Mm(width), Mm(height), ops);
    let mut warnings = Vec::new();
    let bytes = document
        .with_pages(vec![page])
        .save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        return Err(Error::new(
            Code::Internal,
            "Le PDF de l'affiche n'a pas pu être fabriqué.",
        ));
    }
    Ok(bytes)
}

/// The logo fitted in [`LOGO_BOX`], keeping its proportions, against the box's top-left corner.
pub(crate) fn logo_ops(ops: &mut Vec<Op>, frame: &Frame, logo: &Logo, id: &XObjectId) {
    let (left, top, width, height) = LOGO_BOX;
    let fit = (width / logo.width as f32).min(height / logo.height as f32);
    let drawn_height = logo.height as f32 * fit;
    let bottom_left = frame.point(left, top + drawn_height);
    // At 72 dpi a pixel is a point; the scale then gives the size in the box.
    let scale = fit * frame.scale * 72.0 / 25.4;
    ops.push(Op::UseXobject {
        id: id.clone(),
        transform: XObjectTransform {
            translate_x: Some(bottom_left.x),
            translate_y: Some(bottom_left.y),
            scale_x: Some(scale),
            scale_y: Some(scale),
            dpi: Some(72.0),
            ..Default::default()
        },
    });
}

/// A dashed vertical line down the middle of the page, with scissors at the top.
fn cutting_line(width: f32, height: f32) -> Vec<Op> {
    let x = width / 2.0;
    vec![
        Op::SaveGraphicsState,
        Op::SetOutlineColor { col: grey() },
        Op::SetOutlineThickness { pt: Pt(0.5) },
        Op::SetLineDashPattern {
            dash: LineDashPattern::new(0.0, &[4.0, 3.0]),
        },
        Op::DrawLine {
            line: printpdf::Line {
                points: vec![
                    LinePoint {
                        p: Point::new(Mm(x), Mm(0.0)),
                        bezier: false,
                    },
                    LinePoint {
                        p: Point::new(Mm(x), Mm(height)),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        },
        Op::RestoreGraphicsState,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_placements_meet_each_formats_minimum() {
        for format in Format::ALL {
            let placements = format.qr_placements();
            assert_eq!(placements.len(), if format == Format::A5x2 { 2 } else { 1 });
            let (width, height) = format.page_mm();
            for placement in placements {
                assert!(placement.side_mm >= format.min_qr_mm(), "{format:?}");
                assert!(placement.left_mm > 0.0 && placement.top_mm > 0.0);
                assert!(placement.left_mm + placement.side_mm < width);
                assert!(placement.top_mm + placement.side_mm < height);
            }
        }
    }

    #[test]
    fn the_font_has_every_character_the_poster_uses() {
        let fonts = fonts().unwrap();
        for c in "«»\u{a0}\u{202f}…ÉéèêëàâçîïôûùœÈÀÇ’—–".chars() {
            assert!(
                fonts.regular.lookup_glyph_index(c as u32).is_some()
                    && fonts.bold.lookup_glyph_index(c as u32).is_some(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn every_format_renders() {
        let mut request = PosterRequest::new(
            Format::A4,
            "Saint-Étienne-de-Tinée",
            "21040107100019",
            jiff::Timestamp::UNIX_EPOCH,
        );
        request.refresh = Some(super::super::Refresh {
            contact_email: "mairie@saint-etienne-de-tinee.fr".into(),
        });
        for format in Format::ALL {
            request.format = format;
            let pdf = render(&request).unwrap();
            assert!(pdf.starts_with(b"%PDF"), "{format:?}");
            assert!(pdf.len() < 300 * 1024, "{format:?}: {} bytes", pdf.len());
        }
    }

    #[test]
    fn logos_are_checked() {
        let png = super::super::qr_png("21040107100019", 2).unwrap();
        let logo = Logo::from_bytes(&png).unwrap();
        assert_eq!((logo.width, logo.height), (114, 114));
        assert_eq!(logo.rgb.len(), 114 * 114 * 3);
        let broken_jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0];
        let error = Logo::from_bytes(&broken_jpeg).unwrap_err();
        assert!(error.message.contains("JPEG lisible"), "{}", error.message);
        let error = Logo::from_bytes(b"GIF89a").unwrap_err();
        assert!(error.message.contains("PNG ou JPEG"), "{}", error.message);
        assert!(Logo::from_bytes(&vec![0; LOGO_MAX_BYTES + 1]).is_err());
        let big = super::super::qr_png("21040107100019", 12).unwrap();
        let logo = Logo::from_bytes(&big).unwrap();
        assert_eq!((logo.width, logo.height), (228, 228), "684 px reduced by 3");
        assert_eq!(logo.rgb.len(), 228 * 228 * 3);
    }

    #[test]
    fn jpeg_logos_are_decoded_in_colour() {
        let jpeg = include_bytes!("testdata/logo.jpg");
        assert_eq!(LogoKind::sniff(jpeg), Some(LogoKind::Jpeg));
        let logo = Logo::from_bytes(jpeg).unwrap();
        assert_eq!((logo.width, logo.height), (60, 30));
        assert_eq!(logo.rgb.len(), 60 * 30 * 3);
        // The gradient starts blue at the top: more blue than red in the first pixel.
        assert!(logo.rgb[2] > logo.rgb[0] + 100, "{:?}", &logo.rgb[..3]);
        let mut request = PosterRequest::new(
            Format::A5,
            "Majastres",
            "21040107100019",
            jiff::Timestamp::UNIX_EPOCH,
        );
        request.logo = Some(logo);
        assert!(render(&request).unwrap().starts_with(b"%PDF"));
    }
}
