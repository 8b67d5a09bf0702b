//! The poster's PDF as a picture, for the window's preview.
//!
//! The preview must show the very file that will be printed, not an HTML imitation of it: the
//! PDF bytes from [`super::render`] are rasterised here with hayro (pure Rust, no Poppler or
//! PDFium to ship), using only the fonts embedded in the file.

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};

use crate::error::{Code, Error, Result};

/// Largest side of a preview, in pixels: enough for the QR to scan from the screen.
const MAX_SIDE: u32 = 4000;

fn failed() -> Error {
    Error::new(
        Code::Internal,
        "L'aperçu de l'affiche n'a pas pu être dessiné ; le PDF, lui, peut être imprimé.",
    )
}

/// The first page of `pdf` as a PNG `width` pixels wide (height in proportion), on white.
pub fn first_page_png(pdf: &[u8], width: u32) -> Result<Vec<u8>> {
    page_png(pdf, 0, width)
}

/// How many pages `pdf` has.
pub fn page_count(pdf: &[u8]) -> Result<usize> {
    let document = Pdf::new(pdf.to_vec()).map_err(|_| failed())?;
    Ok(document.pages().len())
}

/// Page `index` (from 0) of `pdf` as a PNG `width` pixels wide (height in proportion), on
/// white.
pub fn page_png(pdf: &[u8], index: usize, width: u32) -> Result<Vec<u8>> {
    let document = Pdf::new(pdf.to_vec()).map_err(|_| failed())?;
    let pages = document.pages();
    let page = pages.get(index).ok_or_else(failed)?;
    let (page_width, page_height) = page.render_dimensions();
    if page_width <= 0.0 || page_height <= 0.0 {
        return Err(failed());
    }
    let scale = width.clamp(16, MAX_SIDE) as f32 / page_width;
    if page_height * scale > MAX_SIDE as f32 {
        return Err(failed());
    }
    let pixmap = hayro::render(
        page,
        &RenderCache::new(),
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &PixmapSettings {
            x_scale: scale,
            y_scale: scale,
            bg_color: WHITE,
        },
    );
    pixmap
        .into_png()
        .map_err(|error| failed().with_source(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poster::{render, Format, PosterRequest};

    #[test]
    fn every_format_becomes_a_png_of_the_pages_shape() {
        for format in Format::ALL {
            let request = PosterRequest::new(
                format,
                "Majastres",
                "21040107100019",
                jiff::Timestamp::UNIX_EPOCH,
            );
            let png = first_page_png(&render(&request).unwrap(), 600).unwrap();
            let reader = png::Decoder::new(std::io::Cursor::new(png))
                .read_info()
                .unwrap();
            let (width, height) = (reader.info().width, reader.info().height);
            let (page_width, page_height) = format.page_mm();
            assert_eq!(width, 600, "{format:?}");
            let expected = 600.0 * page_height / page_width;
            assert!(
                (height as f32 - expected).abs() <= 1.0,
                "{format:?}: {height}"
            );
        }
    }

    #[test]
    fn garbage_is_refused_in_french() {
        let error = first_page_png(b"not a pdf", 600).unwrap_err();
        assert!(error.message.contains("aperçu"), "{}", error.message);
    }
}
