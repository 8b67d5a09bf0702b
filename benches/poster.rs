//! How long the poster takes to make, per format (issue 6: aim < 300 ms each).
//!
//! `cargo bench --bench poster`. A measurement, not a test: the median of several renderings
//! of each format is printed against the aim and never fails the run (it depends on the
//! machine). The first rendering, which parses the embedded fonts once, is shown apart.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use guichet_qf::poster::{self, Format, PosterRequest, Refresh};

const RUNS: usize = 15;
const AIM: Duration = Duration::from_millis(300);

fn request(format: Format) -> PosterRequest {
    let mut request = PosterRequest::new(
        format,
        "Saint-Étienne-de-Tinée",
        "21040107100019",
        jiff::Timestamp::UNIX_EPOCH,
    );
    request.contact_email = Some("accueil@mairie-exemple.fr".into());
    request.refresh = Some(Refresh {
        contact_email: "accueil@mairie-exemple.fr".into(),
    });
    request
}

fn main() -> ExitCode {
    let started = Instant::now();
    if let Err(error) = poster::render(&request(Format::A4)) {
        eprintln!("rendering failed: {}", error.message);
        return ExitCode::FAILURE;
    }
    println!(
        "first poster (fonts parsed once): {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "poster generation, median of {RUNS} runs (aim: < {} ms)",
        AIM.as_millis()
    );
    for format in Format::ALL {
        let request = request(format);
        let mut times = Vec::with_capacity(RUNS);
        let mut size = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            match poster::render(&request) {
                Ok(pdf) => size = pdf.len(),
                Err(error) => {
                    eprintln!("rendering {format:?} failed: {}", error.message);
                    return ExitCode::FAILURE;
                }
            }
            times.push(started.elapsed());
        }
        times.sort();
        let median = times[RUNS / 2];
        println!(
            "  {:<28} {:>7.1} ms  (min {:.1}, max {:.1})  {:>4} KB  {}",
            format.label(),
            median.as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[RUNS - 1].as_secs_f64() * 1000.0,
            size.div_ceil(1024),
            if median < AIM { "ok" } else { "ABOVE AIM" }
        );
    }
    type Make = fn() -> guichet_qf::error::Result<usize>;
    let others: [(&str, Make); 2] = [
        ("QR PNG", || {
            poster::qr_png("21040107100019", 20).map(|png| png.len())
        }),
        ("QR SVG", || {
            poster::qr_svg("21040107100019").map(|svg| svg.len())
        }),
    ];
    for (what, make) in others {
        let started = Instant::now();
        match make() {
            Ok(size) => println!(
                "  {what:<28} {:>7.1} ms  {:>4} KB",
                started.elapsed().as_secs_f64() * 1000.0,
                size.div_ceil(1024)
            ),
            Err(error) => {
                eprintln!("{what} failed: {}", error.message);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
