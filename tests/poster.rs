//! The poster as a family meets it: each format rendered to an image at 150 dpi (`pdftoppm`),
//! its QR decoded (`zbarimg`) to exactly the commune's URL and measured on the image, its text
//! extracted (`pdftotext`); the check against formulaire-qf's public list on a local server; the
//! CLI's `poster` and `qr` as an agent runs them.
//!
//! `pdftoppm`, `pdftotext`, `pdfimages` (poppler-utils) and `zbarimg` (zbar-tools) come from
//! `scripts/bootstrap.sh test`. Without them the rendering tests are skipped on a developer's
//! PC, and fail under `CI=true`.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use guichet_qf::network::Network;
use guichet_qf::poster::{self, Format, Listing, PosterRequest, Refresh};

const SIRET: &str = "21040107100019";
const URL: &str = "https://quotient-familial.numerique.gouv.fr/collectivites/21040107100019";
const NAME: &str = "Saint-Étienne-de-Tinée";
const DPI: f32 = 150.0;

/// Whether the outside tools are there; under CI they must be.
fn tools_present() -> bool {
    let missing: Vec<&str> = ["pdftoppm", "pdftotext", "pdfimages", "zbarimg"]
        .into_iter()
        .filter(|tool| {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .map(|output| !output.status.success())
                .unwrap_or(true)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "missing under CI: {missing:?} (install with scripts/bootstrap.sh test)"
    );
    eprintln!("skipped: {missing:?} missing (apt-get install poppler-utils zbar-tools)");
    false
}

fn run_tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The QR codes `zbarimg` reads in an image, one line each.
fn decode(image: &Path) -> Vec<String> {
    run_tool("zbarimg", &["--raw", "-q", image.to_str().unwrap()])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The page rendered at 150 dpi in grey: (width, height, one byte per pixel, the PNG's path).
fn rasterise(pdf: &Path) -> (usize, usize, Vec<u8>, std::path::PathBuf) {
    let stem = pdf.with_extension("");
    run_tool(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-gray",
            "-png",
            "-singlefile",
            pdf.to_str().unwrap(),
            stem.to_str().unwrap(),
        ],
    );
    let image = stem.with_extension("png");
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&image).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    pixels.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    let luma = pixels.chunks(channels).map(|pixel| pixel[0]).collect();
    (info.width as usize, info.height as usize, luma, image)
}

/// The side, in mm, of the dark pixels' bounding box around a placement (quiet zone and a
/// margin included, where the layout draws nothing else).
fn measured_side_mm(
    (width, height, pixels): (usize, usize, &[u8]),
    placement: &poster::Placement,
) -> f32 {
    let px = |mm: f32| (mm / 25.4 * DPI).round() as isize;
    let margin = placement.side_mm / 49.0 * 3.5;
    let (x0, x1) = (
        px(placement.left_mm - margin).max(0) as usize,
        (px(placement.left_mm + placement.side_mm + margin) as usize).min(width),
    );
    let (y0, y1) = (
        px(placement.top_mm - margin).max(0) as usize,
        (px(placement.top_mm + placement.side_mm + margin) as usize).min(height),
    );
    let (mut left, mut right, mut top, mut bottom) = (usize::MAX, 0, usize::MAX, 0);
    for y in y0..y1 {
        for x in x0..x1 {
            if pixels[y * width + x] < 128 {
                left = left.min(x);
                right = right.max(x);
                top = top.min(y);
                bottom = bottom.max(y);
            }
        }
    }
    assert!(left < right && top < bottom, "no QR found at {placement:?}");
    let side_px = (right - left + 1).max(bottom - top + 1) as f32;
    side_px / DPI * 25.4
}

fn request(format: Format) -> PosterRequest {
    let mut request = PosterRequest::new(format, NAME, SIRET, jiff::Timestamp::UNIX_EPOCH);
    request.contact_email = Some("accueil@mairie-exemple.fr".into());
    request.refresh = Some(Refresh {
        contact_email: "accueil@mairie-exemple.fr".into(),
    });
    request
}

#[test]
fn every_format_scans_reads_and_measures_right() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for format in Format::ALL {
        let pdf = poster::render(&request(format)).unwrap();
        assert!(
            pdf.len() < 300 * 1024,
            "{format:?}: {} bytes, 300 KB at most",
            pdf.len()
        );
        let path = dir.path().join(format!("affiche-{format:?}.pdf"));
        std::fs::write(&path, &pdf).unwrap();

        let (width, height, pixels, image) = rasterise(&path);
        let placements = format.qr_placements();
        let decoded = decode(&image);
        assert_eq!(
            decoded,
            vec![URL.to_string(); placements.len()],
            "{format:?}"
        );
        for placement in &placements {
            let side = measured_side_mm((width, height, &pixels), placement);
            assert!(
                side >= format.min_qr_mm(),
                "{format:?}: QR printed {side:.1} mm, {} mm at least",
                format.min_qr_mm()
            );
            assert!(
                (side - placement.side_mm).abs() < 1.0,
                "{format:?}: measured {side:.1} mm, laid out {:.1} mm",
                placement.side_mm
            );
        }

        let text = run_tool("pdftotext", &[path.to_str().unwrap(), "-"]);
        for expected in [
            NAME,
            "Pas de FranceConnect",
            "quotient-familial.numerique.gouv.fr/collectivites/21040107100019",
            "Cantine, garderie, centre de loisirs",
            "accueil@mairie-exemple.fr",
        ] {
            assert!(
                text.contains(expected),
                "{format:?}: « {expected} » in:\n{text}"
            );
        }
    }
}

#[test]
fn the_opt_out_sentence_only_when_the_commune_refreshes() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut without = request(Format::A4);
    without.refresh = None;
    for (request, expected) in [(request(Format::A4), true), (without, false)] {
        let path = dir.path().join("affiche.pdf");
        std::fs::write(&path, poster::render(&request).unwrap()).unwrap();
        let text = run_tool("pdftotext", &[path.to_str().unwrap(), "-"]);
        assert_eq!(
            text.contains("refuser cette actualisation"),
            expected,
            "{text}"
        );
    }
}

#[test]
fn a_logo_is_drawn_once_per_flyer_and_keeps_the_qr_readable() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A 300 × 200 gradient with transparency, as a commune's logo might be.
    let (width, height) = (300u32, 200u32);
    let mut rgba = Vec::new();
    for y in 0..height {
        for x in 0..width {
            rgba.extend([
                (x % 256) as u8,
                (y % 256) as u8,
                160,
                if x < 20 { 0 } else { 255 },
            ]);
        }
    }
    let mut logo = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut logo, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&rgba).unwrap();
    }
    let logo_path = dir.path().join("logo.png");
    std::fs::write(&logo_path, &logo).unwrap();
    for format in [Format::A4, Format::A5x2] {
        let mut request = request(format);
        request.logo = Some(poster::Logo::from_bytes(&logo).unwrap());
        let pdf = poster::render(&request).unwrap();
        assert!(pdf.len() < 300 * 1024, "{format:?}: {} bytes", pdf.len());
        let path = dir.path().join(format!("logo-{format:?}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let images = run_tool("pdfimages", &["-list", path.to_str().unwrap()]);
        let drawn: Vec<Vec<&str>> = images
            .lines()
            .skip(2)
            .map(|line| line.split_whitespace().collect())
            .collect();
        assert_eq!(drawn.len(), format.qr_placements().len(), "{images}");
        assert!(
            drawn.iter().all(|fields| fields[3..5] == ["300", "200"]),
            "{images}"
        );
        let (_, _, _, image) = rasterise(&path);
        assert_eq!(decode(&image).len(), format.qr_placements().len());
        assert!(decode(&image).iter().all(|text| text == URL));
    }

    // From the command line, and a file that is not a PNG refused in French.
    let output = cli(
        dir.path(),
        "http://127.0.0.1:1",
        &[
            "poster",
            "--format",
            "a4",
            "--out",
            dir.path().join("l.pdf").to_str().unwrap(),
            "--siret",
            SIRET,
            "--nom",
            NAME,
            "--logo",
            logo_path.to_str().unwrap(),
        ],
    );
    common::assert_ok(&output);
    let output = cli(
        dir.path(),
        "http://127.0.0.1:1",
        &[
            "poster",
            "--format",
            "a4",
            "--out",
            dir.path().join("m.pdf").to_str().unwrap(),
            "--siret",
            SIRET,
            "--nom",
            NAME,
            "--logo",
            dir.path().join("l.pdf").to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PNG"));
}

/// The window's preview is the PDF itself drawn by hayro: for each format, the PNG it shows
/// holds the QR code, and `zbarimg` reads exactly the commune's URL from it (twice on the page of
/// two flyers).
#[test]
fn the_preview_png_is_the_pdf_and_its_qr_decodes() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = poster::studio::Target {
        siret: SIRET.into(),
        name: NAME.into(),
        commune_id: None,
    };
    let settings = poster::settings::PosterSettings::default();
    for format in Format::ALL {
        let request = poster::studio::request(
            &target,
            format,
            &settings,
            None,
            jiff::Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        let preview = poster::studio::preview(&request, poster::studio::PREVIEW_WIDTH).unwrap();
        assert_eq!(preview.url, URL);
        let encoded = preview
            .image
            .strip_prefix("data:image/png;base64,")
            .expect("a PNG data URL");
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let path = dir.path().join(format!("{format:?}.png"));
        std::fs::write(&path, png).unwrap();
        let expected = if format == Format::A5x2 { 2 } else { 1 };
        assert_eq!(decode(&path), vec![URL.to_string(); expected], "{format:?}");
    }
}

/// A stand-in for formulaire-qf's public list, answering `body` with `status`.
async fn list_server(status: u16, body: &'static str) -> String {
    let app = Router::new().route(
        "/api/collectivites",
        get(move || async move {
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                body,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

const MAJASTRES_LISTED: &str = r#"[{"name":"Majastres","siret":"21040107100019","code_cog":"04107"},{"name":"Commune de HubEE - Test","siret":"11111111111111","code_cog":"11111"}]"#;

#[tokio::test]
async fn the_public_list_says_open_not_listed_or_unknown() {
    let timeout = Duration::from_secs(5);
    let base = list_server(200, MAJASTRES_LISTED).await;
    assert_eq!(
        poster::check_listed(&Network::direct(), &base, SIRET, timeout).await,
        Listing::Open {
            name: "Majastres".into()
        }
    );
    assert_eq!(
        poster::check_listed(
            &Network::direct(),
            &format!("{base}/"),
            "21730132400018",
            timeout
        )
        .await,
        Listing::NotListed
    );
    let down = list_server(503, "{}").await;
    assert!(matches!(
        poster::check_listed(&Network::direct(), &down, SIRET, timeout).await,
        Listing::Unknown(reason) if reason.contains("503")
    ));
    let garbage = list_server(200, "<html>maintenance</html>").await;
    assert!(matches!(
        poster::check_listed(&Network::direct(), &garbage, SIRET, timeout).await,
        Listing::Unknown(_)
    ));
    assert!(matches!(
        poster::check_listed(&Network::direct(), "http://127.0.0.1:1", SIRET, timeout).await,
        Listing::Unknown(_)
    ));
}

/// The CLI against a local list: a runtime serving it for the test's duration.
struct ListSite {
    _runtime: tokio::runtime::Runtime,
    url: String,
}

fn list_site(body: &'static str) -> ListSite {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(list_server(200, body));
    ListSite {
        _runtime: runtime,
        url,
    }
}

fn cli(dir: &Path, site: &str, args: &[&str]) -> std::process::Output {
    common::run(
        dir,
        args,
        "",
        &[
            ("GUICHET_QF_KEYSTORE", "aucun"),
            ("GUICHET_QF_FORMULAIRE_URL", site),
        ],
    )
}

#[test]
fn cli_poster_checks_the_list_writes_the_pdf_and_journals_it() {
    let site = list_site(MAJASTRES_LISTED);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    let out = dir.path().join("affiche.pdf");
    let out_arg = out.to_str().unwrap();

    // A commune not configured on this PC, which has no data yet: printed, nothing journaled.
    let output = cli(
        &data,
        &site.url,
        &[
            "poster", "--format", "a4", "--out", out_arg, "--siret", SIRET, "--nom", NAME,
        ],
    );
    common::assert_ok(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("ouvert pour « Majastres »"), "{stdout}");
    assert!(stdout.contains(URL), "{stdout}");
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF"));
    assert!(!data.join("guichet-qf.sqlite3").exists());

    // The configured commune: printed and journaled.
    common::assert_ok(&cli(&data, &site.url, &common::ADD_MAJASTRES));
    let output = cli(
        &data,
        &site.url,
        &["poster", "--format", "a5x2", "--out", out_arg],
    );
    common::assert_ok(&output);
    let journal = cli(&data, &site.url, &["journal", "list", "--json"]);
    common::assert_ok(&journal);
    let journal = String::from_utf8_lossy(&journal.stdout);
    assert!(journal.contains("\"impression\""), "{journal}");
    assert!(journal.contains("affiche 2 flyers A5"), "{journal}");
    assert!(journal.contains("ligne de commande"), "{journal}");

    if tools_present() {
        let text = run_tool("pdftotext", &[out_arg, "-"]);
        assert!(text.contains("Majastres"), "{text}");
    }
}

#[test]
fn cli_poster_refuses_a_commune_the_form_does_not_know_unless_forced() {
    let site = list_site(r#"[{"name":"Autre","siret":"11111111111111","code_cog":"11111"}]"#);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("affiche.pdf");
    let args = [
        "poster",
        "--format",
        "a3",
        "--out",
        out.to_str().unwrap(),
        "--siret",
        SIRET,
        "--nom",
        "Majastres",
    ];
    let output = cli(dir.path(), &site.url, &args);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Collectivité non trouvée"), "{stderr}");
    assert!(stderr.contains("--forcer"), "{stderr}");
    assert!(!out.exists());

    let mut forced = args.to_vec();
    forced.push("--forcer");
    common::assert_ok(&cli(dir.path(), &site.url, &forced));
    assert!(out.exists());

    // A bad SIRET is refused before anything else.
    let output = cli(
        dir.path(),
        &site.url,
        &[
            "poster",
            "--format",
            "a4",
            "--out",
            "x.pdf",
            "--siret",
            "21040107100018",
            "--nom",
            "X",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("clé de contrôle"));
}

#[test]
fn cli_poster_offline_prints_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("affiche.pdf");
    let output = cli(
        dir.path(),
        "http://127.0.0.1:1",
        &[
            "poster",
            "--format",
            "a5",
            "--out",
            out.to_str().unwrap(),
            "--siret",
            SIRET,
            "--nom",
            NAME,
        ],
    );
    common::assert_ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("n'a pas pu être consultée"), "{stderr}");
    assert!(out.exists());
}

#[test]
fn cli_qr_writes_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let svg = dir.path().join("qr.svg");
    for path in [&png, &svg] {
        common::assert_ok(&cli(
            dir.path(),
            "http://127.0.0.1:1",
            &[
                "qr",
                "--out",
                path.to_str().unwrap(),
                "--siret",
                SIRET,
                "--nom",
                NAME,
            ],
        ));
    }
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.starts_with("<?xml"), "{svg_text}");
    assert!(svg_text.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 57 57\""));
    assert!(svg_text.trim_end().ends_with("</svg>"));
    let output = cli(
        dir.path(),
        "http://127.0.0.1:1",
        &["qr", "--out", "qr.jpg", "--siret", SIRET, "--nom", NAME],
    );
    assert_eq!(output.status.code(), Some(1));
    if tools_present() {
        assert_eq!(decode(&png), vec![URL.to_string()]);
    }
}

#[test]
fn cli_textes_prints_the_kits_texts_with_the_communes_link() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "textes",
        "--siret",
        SIRET,
        "--nom",
        NAME,
        "--email",
        "accueil@mairie-exemple.fr",
    ];
    let output = cli(dir.path(), "http://127.0.0.1:1", &args);
    common::assert_ok(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches(URL).count(), 2, "{text}");
    assert!(text.contains(&format!("la mairie de {NAME}")), "{text}");
    assert!(!text.contains("refuser cette actualisation"), "{text}");

    let mut refreshing = args.to_vec();
    refreshing.extend(["--actualisation", "chaque trimestre"]);
    let output = cli(dir.path(), "http://127.0.0.1:1", &refreshing);
    common::assert_ok(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        text.matches("refuser cette actualisation").count(),
        2,
        "{text}"
    );
}

/// A family of the commune `commune` with one allocataire and, maybe, a QF of `month`.
fn add_family(store: &guichet_qf::store::Store, nom: &str, month: Option<(i32, i32)>) -> i64 {
    use guichet_qf::families::{self, NewMember, NewQf, Role, Source};
    let now = jiff::Timestamp::from_second(1_795_000_000).unwrap();
    store
        .write(|tx| {
            let commune = guichet_qf::communes::list(tx)?[0].id;
            let id = families::create(tx, commune, "Paul", now, &mut rand::rng())?;
            let member = NewMember {
                role: Some(Role::Allocataire),
                nom_naissance: nom.into(),
                prenoms: "CAMILLE".into(),
                ..NewMember::default()
            };
            families::add_member(tx, id, &member, true, now)?;
            if let Some((annee, mois)) = month {
                let qf = NewQf {
                    valeur: Some(640),
                    annee,
                    mois,
                    fournisseur: "CNAF".into(),
                    source: Source::Guichet,
                };
                families::add_qf(tx, id, &qf, "Paul", now)?;
            }
            Ok(id)
        })
        .unwrap()
}

#[test]
fn cli_lettres_prints_a_page_per_family_whose_qr_carries_its_own_code() {
    let site = list_site(MAJASTRES_LISTED);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    let out = dir.path().join("lettres.pdf");
    let out_arg = out.to_str().unwrap();
    common::assert_ok(&cli(&data, &site.url, &common::ADD_MAJASTRES));
    let store = guichet_qf::store::open(&data.join("guichet-qf.sqlite3")).unwrap();
    let garcia = add_family(&store, "GARCIA", None);
    let _recent = add_family(&store, "BLANC", Some((2026, 10)));
    let old = add_family(&store, "ARNAUD", Some((2024, 9)));
    let codes: Vec<String> = [old, garcia]
        .iter()
        .map(|id| {
            store
                .read(|c| guichet_qf::families::get(c, *id))
                .unwrap()
                .external_id
        })
        .collect();
    drop(store);

    let output = cli(
        &data,
        &site.url,
        &["lettres", "--out", out_arg, "--sans-qf-depuis", "2026-01"],
    );
    common::assert_ok(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Lettres personnelles (2 familles) pour Majastres"),
        "{stdout}"
    );
    let pdf = std::fs::read(&out).unwrap();
    let pages = guichet_qf::poster::raster::page_count(&pdf).unwrap();
    assert_eq!(pages, 2);
    if tools_present() {
        // By name: ARNAUD (an old QF), then GARCIA (none); BLANC's QF is recent.
        for (page, code) in codes.iter().enumerate() {
            let stem = dir.path().join(format!("page{page}"));
            run_tool(
                "pdftoppm",
                &[
                    "-r",
                    "150",
                    "-gray",
                    "-png",
                    "-singlefile",
                    "-f",
                    &(page + 1).to_string(),
                    "-l",
                    &(page + 1).to_string(),
                    out_arg,
                    stem.to_str().unwrap(),
                ],
            );
            assert_eq!(
                decode(&stem.with_extension("png")),
                vec![format!("{URL}?external_id={code}")]
            );
        }
        let text = run_tool("pdftotext", &[out_arg, "-"]);
        assert!(text.contains("ARNAUD") && text.contains("GARCIA"), "{text}");
        assert!(!text.contains("BLANC"), "{text}");
        assert!(text.contains("septembre 2024"), "{text}");
    }

    let journal = cli(&data, &site.url, &["journal", "list", "--json"]);
    common::assert_ok(&journal);
    let journal = String::from_utf8_lossy(&journal.stdout);
    assert!(
        journal.contains("lettres personnelles (2 familles)"),
        "{journal}"
    );
    assert!(!journal.contains("GARCIA"), "{journal}");

    let output = cli(
        &data,
        &site.url,
        &["lettres", "--out", out_arg, "--sans-qf-depuis", "janvier"],
    );
    assert!(!output.status.success());
    assert!(common::stderr(&output).contains("AAAA-MM"));
}
