//! End-to-end tests of the real app: fantoccini → tauri-driver → WebKitWebDriver → the
//! `guichet-qf` binary, with its real backend and a fresh data directory per test.
//!
//! They need a display and tauri-driver, so they run when `DISPLAY` is set or `TAURI_E2E=1`:
//!
//! ```text
//! TAURI_E2E=1 xvfb-run -a -s "-screen 0 1280x1024x24" cargo test --test e2e
//! ```
//!
//! Without either they print why and pass, so that a plain `cargo test` on a headless machine
//! stays green; under `CI=true` they fail instead, because CI must never skip them silently.
//! The setup follows the pitfalls measured in `shared/specs/tauri-notes.md` (Q5): free ports
//! for each driver, a timeout around the session creation, SIGTERM (never SIGKILL) to stop
//! tauri-driver so that its WebKitWebDriver child goes too, and polling the DOM instead of
//! sleeping.
//!
//! The element ids used here are listed in `ui/README.md`, so that a rename in the UI is made
//! here too.

use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, NewSessionError};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tempfile::TempDir;

/// How long a screen may take to appear. The first-run step derives a key from the passphrase
/// (Argon2) in a debug build, which takes a few seconds on a 2-core machine.
const UI_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_PERIOD: Duration = Duration::from_millis(100);

const COMMUNE_NAME: &str = "Majastres";
const VALID_SIRET: &str = "21040107100019";
/// Same digits as `VALID_SIRET` but the last one: the Luhn key no longer matches.
const INVALID_SIRET: &str = "21040107100018";
const COG: &str = "04107";
const AGENT_NAME: &str = "Claire Martin";
const PIN: &str = "1234";
/// ASCII only: WebKitWebDriver types through the X keymap, where accented keys may be missing.
const PASSPHRASE: &str = "la cantine ouvre a midi";

fn env_is(name: &str, value: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == value)
}

/// Decides whether the e2e tests can run here. Returns the tauri-driver to use, or `None` to
/// skip (after saying why). Panics where skipping would hide a broken setup.
fn e2e_driver(test: &str) -> Option<PathBuf> {
    let ci = env_is("CI", "true");
    let asked = env_is("TAURI_E2E", "1");
    let display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty());
    if !asked && !display {
        assert!(
            !ci,
            "{test}: CI=true but neither DISPLAY nor TAURI_E2E=1 is set, so the end-to-end tests \
             cannot run; run them as `TAURI_E2E=1 xvfb-run -a cargo test --test e2e`"
        );
        eprintln!(
            "{test}: skipped, no DISPLAY and TAURI_E2E is not 1 \
             (run: TAURI_E2E=1 xvfb-run -a -s \"-screen 0 1280x1024x24\" cargo test --test e2e)"
        );
        return None;
    }
    match find_tauri_driver() {
        Some(path) => Some(path),
        None if ci || asked => panic!(
            "{test}: tauri-driver was not found on PATH nor in ~/.cargo/bin; install it with \
             `cargo install tauri-driver --locked` (and `apt-get install webkit2gtk-driver`)"
        ),
        None => {
            eprintln!("{test}: skipped, tauri-driver is not installed (cargo install tauri-driver --locked)");
            None
        }
    }
}

/// `TAURI_DRIVER` if set, else PATH, else cargo's install directory (which CI shells do not
/// always have on PATH).
fn find_tauri_driver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return Some(PathBuf::from(path));
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect())
        .unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        candidates.push(Path::new(&cargo_home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".cargo/bin"));
    }
    candidates
        .into_iter()
        .map(|dir| dir.join("tauri-driver"))
        .find(|path| path.is_file())
}

/// A port nobody listens on right now. Fixed ports collide with parallel tests and with a
/// WebKitWebDriver left over from an earlier crash.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free local port")
}

/// The tauri-driver process, stopped with SIGTERM when dropped (also when a test panics).
/// Fields drop in order: the driver (and the app under it) stops before its data directory
/// is deleted.
struct Driver {
    child: Child,
    log: PathBuf,
    data_dir: TempDir,
    _log_dir: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // tauri-driver stops its WebKitWebDriver child only on SIGTERM/SIGINT/SIGQUIT; after a
        // SIGKILL the child keeps the native port and the next session hangs.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(POLL_PERIOD);
        }
        if std::thread::panicking() {
            eprintln!(
                "--- tauri-driver and app output ---\n{}",
                read_log(&self.log)
            );
        }
    }
}

impl Driver {
    /// The app's data directory (database, backups, logs).
    fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }
}

fn read_log(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    text
}

/// Starts tauri-driver for a fresh data directory and opens a WebDriver session on the app.
async fn start_app(test: &str) -> Option<(Driver, Client)> {
    start_app_with(test, &[]).await
}

/// [`start_app`] with more environment variables for the app.
async fn start_app_with(test: &str, env: &[(&str, &str)]) -> Option<(Driver, Client)> {
    let driver_path = e2e_driver(test)?;
    let data_dir = TempDir::new().expect("temporary data directory");
    let log_dir = TempDir::new().expect("temporary log directory");
    let log = log_dir.path().join("tauri-driver.log");
    let log_file = File::create(&log).expect("driver log file");
    let port = free_port();
    let native_port = free_port();

    // The app reads its settings from the environment of tauri-driver, which it inherits:
    // its own data directory, and no OS keystore so that secrets use the passphrase path.
    let child = Command::new(&driver_path)
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("GUICHET_QF_DATA_DIR", data_dir.path())
        .env("GUICHET_QF_KEYSTORE", "none")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("driver log file"))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", driver_path.display()));
    let mut driver = Driver {
        child,
        log,
        data_dir,
        _log_dir: log_dir,
    };

    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = driver.child.try_wait() {
            panic!("{test}: tauri-driver exited early ({status})");
        }
        assert!(
            Instant::now() < deadline,
            "{test}: tauri-driver did not listen on port {port}"
        );
        tokio::time::sleep(POLL_PERIOD).await;
    }

    let capabilities = json!({
        "browserName": "wry",
        "tauri:options": { "application": env!("CARGO_BIN_EXE_guichet-qf") },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    // On a loaded machine tauri-driver may accept the connection before its own WebKit
    // driver is ready and drop the first request: such a request is sent again, a refusal
    // with an answer is not.
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        let url = format!("http://127.0.0.1:{port}");
        let mut builder = ClientBuilder::rustls().expect("rustls initialisation");
        builder.capabilities(capabilities.clone());
        let connect = builder.connect(&url);
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, connect).await {
            Err(_) => panic!("{test}: no WebDriver session after 30 s"),
            Ok(Ok(client)) => break client,
            Ok(Err(
                error @ (NewSessionError::Lost(_)
                | NewSessionError::Failed(_)
                | NewSessionError::FailedC(_)),
            )) if Instant::now() + Duration::from_secs(1) < deadline => {
                eprintln!("{test}: WebDriver request lost ({error}), sending it again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok(Err(error)) => panic!(
                "{test}: WebDriver session refused: {error}\n{}",
                read_log(&driver.log)
            ),
        }
    };
    Some((driver, client))
}

/// The bytes of the file whose path a status region gives in `data-path` (after a save), the
/// file then removed so that tests leave nothing in the Documents folder.
async fn take_written_file(client: &Client, status_css: &str) -> Vec<u8> {
    let path = element(client, status_css)
        .await
        .attr("data-path")
        .await
        .expect("data-path attribute")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no data-path on {status_css}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::fs::remove_file(&path).expect("the test's file removed");
    bytes
}

/// Waits for an element to be in the DOM.
async fn element(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .every(POLL_PERIOD)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("`{css}` did not appear within {UI_TIMEOUT:?}: {e}"))
}

fn retryable(error: &CmdError) -> bool {
    error.is_element_not_interactable() || error.is_stale_element_reference()
}

/// Clicks an element, retrying while WebKit reports it as not interactable yet (the window may
/// still be mapping or laying out right after a screen change) or as replaced by a redraw.
async fn click(client: &Client, css: &str) {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let target = element(client, css).await;
        // The page scrolls smoothly when focus moves to a new heading; WebDriver clicks at
        // coordinates, so a click during the scroll lands beside the element without an error.
        // Wait for the element to stand still first.
        let mut last = target.rectangle().await.ok();
        while Instant::now() < deadline {
            tokio::time::sleep(POLL_PERIOD).await;
            let now = target.rectangle().await.ok();
            if now == last {
                break;
            }
            last = now;
        }
        let result = target.click().await;
        match result {
            Ok(()) => return,
            Err(e) if retryable(&e) && Instant::now() < deadline => {
                tokio::time::sleep(POLL_PERIOD).await
            }
            Err(e) => panic!("cannot click `{css}`: {e:?}"),
        }
    }
}

/// Replaces the content of a field, as an agent would by selecting it and typing; retried
/// like [`click`].
async fn fill(client: &Client, css: &str, text: &str) {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let field = element(client, css).await;
        let result = match field.clear().await {
            Ok(()) => field.send_keys(text).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => return,
            Err(e) if retryable(&e) && Instant::now() < deadline => {
                tokio::time::sleep(POLL_PERIOD).await
            }
            Err(e) => panic!("cannot type into `{css}`: {e:?}"),
        }
    }
}

/// Polls the visible text of an element until `accept` agrees, and returns it. The element is
/// looked up again on each round because the UI redraws whole screens.
async fn wait_text(
    client: &Client,
    css: &str,
    what: &str,
    accept: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + UI_TIMEOUT;
    let mut last = String::new();
    loop {
        if let Ok(found) = client.find(Locator::Css(css)).await {
            if let Ok(text) = found.text().await {
                if accept(&text) {
                    return text;
                }
                last = text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "`{css}` never showed {what} within {UI_TIMEOUT:?}; last text: {last:?}"
        );
        tokio::time::sleep(POLL_PERIOD).await;
    }
}

async fn wizard_step(client: &Client, step: &str) {
    element(client, &format!("#wizard[data-step=\"{step}\"]")).await;
}

/// Fills the wizard's commune step with the given SIRET and asks for the next step.
async fn fill_commune_step(client: &Client, siret: &str) {
    wizard_step(client, "welcome").await;
    click(client, "#wizard-next").await;

    wizard_step(client, "commune").await;
    fill(client, "#wizard-commune-name", COMMUNE_NAME).await;
    fill(client, "#wizard-commune-siret", siret).await;
    fill(client, "#wizard-commune-cog", COG).await;
    click(client, "#wizard-commune-env-production").await;
    click(client, "#wizard-next").await;
}

/// From the agent step to the end of the wizard.
async fn finish_wizard(client: &Client) {
    wizard_step(client, "agent").await;
    fill(client, "#wizard-agent-name", AGENT_NAME).await;
    fill(client, "#wizard-pin", PIN).await;
    fill(client, "#wizard-pin-confirm", PIN).await;
    click(client, "#wizard-next").await;

    // GUICHET_QF_KEYSTORE=none: no system keychain, so the wizard must ask for the passphrase.
    wizard_step(client, "passphrase").await;
    fill(client, "#wizard-passphrase", PASSPHRASE).await;
    fill(client, "#wizard-passphrase-confirm", PASSPHRASE).await;
    click(client, "#wizard-next").await;

    wizard_step(client, "recap").await;
    click(client, "#wizard-finish").await;
}

/// Goes through the whole first-run wizard with a valid commune.
async fn fill_wizard_and_finish(client: &Client, siret: &str) {
    fill_commune_step(client, siret).await;
    finish_wizard(client).await;
}

/// The shell is up once the navigation and the agent's name are shown.
async fn wait_for_shell(client: &Client) {
    element(client, "#nav-parametres").await;
    wait_text(client, "#header-agent", "the agent's name", |t| {
        t.contains(AGENT_NAME)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn first_run_refuses_a_bad_siret_then_the_commune_is_listed_in_parametres() {
    let Some((_driver, client)) = start_app("first_run").await else {
        return;
    };

    fill_commune_step(&client, INVALID_SIRET).await;

    // The backend refuses the SIRET: the message, in French and naming the field, is shown in
    // the wizard's alert region, and the wizard stays on the commune step.
    let message = wait_text(&client, "#wizard-error", "the SIRET error", |t| {
        !t.trim().is_empty()
    })
    .await;
    assert!(
        message.contains("SIRET") && message.contains("clé de contrôle"),
        "the error should name the SIRET field and the reason: {message:?}"
    );
    let role = element(&client, "#wizard-error")
        .await
        .attr("role")
        .await
        .expect("role attribute");
    assert_eq!(role.as_deref(), Some("alert"), "errors must be announced");
    wizard_step(&client, "commune").await;

    fill(&client, "#wizard-commune-siret", VALID_SIRET).await;
    click(&client, "#wizard-next").await;
    finish_wizard(&client).await;

    wait_for_shell(&client).await;
    click(&client, "#nav-parametres").await;
    let current = element(&client, "#nav-parametres")
        .await
        .attr("aria-current")
        .await
        .expect("aria-current attribute");
    assert_eq!(current.as_deref(), Some("page"));
    wait_text(&client, "#view-heading", "the Paramètres heading", |t| {
        t == "Paramètres"
    })
    .await;
    let table = wait_text(&client, "#communes-table", "the new commune", |t| {
        t.contains(COMMUNE_NAME)
    })
    .await;
    assert!(
        table.contains(VALID_SIRET),
        "the communes table should show the SIRET: {table:?}"
    );

    client.close().await.expect("closing the WebDriver session");
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_screen_refuses_a_wrong_pin_then_opens_with_the_right_one() {
    let Some((_driver, client)) = start_app("lock_screen").await else {
        return;
    };

    fill_wizard_and_finish(&client, VALID_SIRET).await;
    wait_for_shell(&client).await;

    click(&client, "#lock-button").await;
    wait_text(&client, "#lock-heading", "the lock screen", |t| {
        t == "Qui est au guichet ?"
    })
    .await;
    click(&client, "#lock-form label[for^=\"lock-agent-\"]").await;
    fill(&client, "#lock-pin", "9876").await;
    click(&client, "#lock-submit").await;

    let message = wait_text(&client, "#lock-error", "the wrong-PIN message", |t| {
        !t.trim().is_empty()
    })
    .await;
    assert!(
        message.contains("Code PIN incorrect"),
        "the refusal should say why: {message:?}"
    );
    assert!(
        client.find(Locator::Css("#lock-screen")).await.is_ok(),
        "a wrong PIN must keep the lock screen"
    );
    let pin_value = element(&client, "#lock-pin")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(
        pin_value.as_deref(),
        Some(""),
        "a refused PIN must not stay in the field"
    );

    fill(&client, "#lock-pin", PIN).await;
    click(&client, "#lock-submit").await;
    wait_for_shell(&client).await;

    client.close().await.expect("closing the WebDriver session");
}

/// A token that appears nowhere else, so that finding it anywhere means it leaked.
const WINDOW_TOKEN: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJlMmUiOiJHdWljaGV0UUZUb2tlbiJ9.RTJFU2lnbmF0dXJlNDI0Mg";

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable data directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_typed_in_parametres_is_sealed_and_never_shown_again() {
    let Some((driver, client)) = start_app("secret_in_window").await else {
        return;
    };

    fill_wizard_and_finish(&client, VALID_SIRET).await;
    wait_for_shell(&client).await;
    click(&client, "#nav-parametres").await;

    // The first commune of a fresh database has id 1.
    let item = "#secret-1-particulier_token";
    wait_text(
        &client,
        &format!("{item}-state"),
        "an unconfigured token",
        |t| t.contains("Non configuré"),
    )
    .await;
    click(&client, &format!("{item}-edit")).await;
    fill(&client, &format!("{item}-value"), WINDOW_TOKEN).await;
    click(&client, &format!("{item} button[type=\"submit\"]")).await;
    wait_text(
        &client,
        &format!("{item}-state"),
        "the configured date",
        |t| t.contains("Configuré le"),
    )
    .await;

    // Nothing in the page holds the token any more: neither the markup nor a field's value,
    // and the backend's answer about secrets carries only dates.
    let page = client
        .execute(
            "return document.documentElement.outerHTML + '|' + \
             [...document.querySelectorAll('input, textarea')].map(f => f.value).join('|')",
            vec![],
        )
        .await
        .expect("page content");
    assert!(
        !page.to_string().contains(WINDOW_TOKEN),
        "the token is still in the page"
    );
    let statuses = client
        .execute(
            "return await window.__TAURI__.core.invoke('secrets_status', { communeId: 1 })",
            vec![],
        )
        .await
        .expect("secrets_status");
    assert_eq!(statuses[2]["kind"], "particulier_token");
    assert!(statuses[2]["configured_at"].is_string());
    assert!(!statuses.to_string().contains(WINDOW_TOKEN));

    // Every byte the app wrote (database, WAL, backups, logs) is free of the token.
    let files = files_under(driver.data_dir());
    assert!(
        files.iter().any(|f| f.ends_with("guichet-qf.sqlite3")),
        "{files:?}"
    );
    for file in files {
        let bytes = std::fs::read(&file).expect("readable file");
        assert!(
            !bytes
                .windows(WINDOW_TOKEN.len())
                .any(|w| w == WINDOW_TOKEN.as_bytes()),
            "the token is in clear in {}",
            file.display()
        );
    }

    client.close().await.expect("closing the WebDriver session");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demonstration_starts_from_the_wizard_with_its_commune_configured() {
    let Some((driver, client)) = start_app("demonstration").await else {
        return;
    };

    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;

    let banner = wait_text(&client, "#demo-banner", "the demonstration banner", |t| {
        t.contains("Mode démonstration")
    })
    .await;
    assert!(
        banner.contains("fictives"),
        "the banner must say the data is fictitious: {banner:?}"
    );
    wait_text(&client, "#header-agent", "the demonstration agent", |t| {
        t.contains("Agent de démonstration")
    })
    .await;

    click(&client, "#nav-parametres").await;
    let table = wait_text(
        &client,
        "#communes-table",
        "the demonstration commune",
        |t| t.contains("Commune de démonstration"),
    )
    .await;
    assert!(
        table.contains("21999999900010") && table.contains("Simulateur"),
        "the demonstration commune uses the simulators: {table:?}"
    );
    // Its Hubee credentials and API Particulier token are in the vault.
    for kind in [
        "hubee_client_id",
        "hubee_client_secret",
        "particulier_token",
    ] {
        wait_text(
            &client,
            &format!("#secret-1-{kind}-state"),
            "a configured secret",
            |t| t.contains("Configuré le"),
        )
        .await;
    }

    // The demonstration has its own database; the real one stays empty.
    let demo_database = driver
        .data_dir()
        .join("demonstration")
        .join("guichet-qf.sqlite3");
    assert!(demo_database.exists(), "{}", demo_database.display());
    let count_communes = |path: &Path| -> i64 {
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("readable database")
            .query_row("SELECT count(*) FROM communes", [], |row| row.get(0))
            .expect("communes counted")
    };
    assert_eq!(count_communes(&demo_database), 1);
    assert_eq!(
        count_communes(&driver.data_dir().join("guichet-qf.sqlite3")),
        0,
        "demonstration data must never reach the real database"
    );

    // Locked, the desk says how to reopen the demonstration.
    click(&client, "#lock-button").await;
    let hint = wait_text(&client, "#lock-demo-hint", "the demonstration PIN", |t| {
        t.contains("0000")
    })
    .await;
    assert!(hint.contains("démonstration"), "{hint:?}");
    click(&client, "#lock-form label[for^=\"lock-agent-\"]").await;
    fill(&client, "#lock-pin", "0000").await;
    click(&client, "#lock-submit").await;
    wait_text(&client, "#demo-banner", "the banner again", |t| {
        t.contains("Mode démonstration")
    })
    .await;

    // Leaving the demonstration brings back the real installation, still to be set up.
    click(&client, "#demo-stop").await;
    wizard_step(&client, "welcome").await;

    client.close().await.expect("closing the WebDriver session");
}

/// The rows of the inbox table, as `data-dossier-id` values.
async fn inbox_ids(client: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    if let Ok(buttons) = client
        .find_all(Locator::Css("#inbox-table tbody [data-dossier-id]"))
        .await
    {
        for button in buttons {
            if let Ok(Some(id)) = button.attr("data-dossier-id").await {
                ids.push(id);
            }
        }
    }
    ids
}

/// Waits until the inbox lists at least `count` dossiers, and returns their ids.
async fn wait_inbox(client: &Client, count: usize, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let ids = inbox_ids(client).await;
        if ids.len() >= count {
            return ids;
        }
        let status = match client.find(Locator::Css("#sync-status")).await {
            Ok(found) => found.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        assert!(
            Instant::now() < deadline,
            "the inbox never listed {count} dossiers within {within:?}: {} listed; relevé: \
             {status:?}",
            ids.len()
        );
        tokio::time::sleep(POLL_PERIOD).await;
    }
}

#[tokio::test]
async fn the_demonstration_inbox_shows_dossiers_as_the_simulator_creates_them() {
    // A fictitious family every 4 seconds instead of every minute.
    let Some((_driver, client)) = start_app_with(
        "demonstration inbox",
        &[("GUICHET_QF_DEMO_ARRIVAL_SECONDS", "4")],
    )
    .await
    else {
        return;
    };
    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;

    // The five dossiers waiting on the simulated Hubee are pulled at once, and then each new
    // one shows up without anyone touching the window.
    element(&client, "#inbox-search").await;
    let first = wait_inbox(&client, 5, UI_TIMEOUT).await;
    let later = wait_inbox(&client, first.len() + 2, Duration::from_secs(60)).await;
    assert!(later.len() >= first.len() + 2);
    wait_text(&client, "#sync-status", "a successful relevé", |t| {
        t.contains("Dernier relevé") && t.contains("réussi")
    })
    .await;
    let badge = wait_text(
        &client,
        "#nav-dossiers-badge",
        "the new-dossier badge",
        |t| {
            t.split_whitespace()
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= 5)
        },
    )
    .await;
    // The number is followed by words for screen readers, hidden from the eye.
    let spoken = element(&client, "#nav-dossiers-badge")
        .await
        .prop("textContent")
        .await
        .expect("badge text")
        .unwrap_or_default();
    assert!(
        spoken.starts_with(badge.trim()) && spoken.contains("nouveaux dossiers"),
        "{spoken:?}"
    );

    // Opening the newest dossier shows its QF, people and files, and marks it "reçu".
    let newest = &later[0];
    click(
        &client,
        &format!("#inbox-table [data-dossier-id=\"{newest}\"]"),
    )
    .await;
    let summary = wait_text(&client, "#dossier-summary", "the dossier summary", |t| {
        t.contains("Reçu") && t.contains("Quotient familial")
    })
    .await;
    assert!(
        summary.contains('€') && (summary.contains("CNAF") || summary.contains("MSA")),
        "{summary:?}"
    );
    let files = wait_text(&client, "#dossier-files", "the three files", |t| {
        t.contains(".pdf") && t.contains("Ouvrir le PDF")
    })
    .await;
    assert!(
        files.contains("FormulaireQF.json") && files.contains("FormulaireQF.xml"),
        "{files:?}"
    );
    wait_text(&client, "#dossier-history", "the acknowledgement", |t| {
        t.contains("Accusé de réception")
    })
    .await;

    // "Traité" asks for confirmation and says Hubee cannot undo it.
    click(&client, "#dossier-traite").await;
    let dialog = wait_text(&client, "dialog", "the confirmation", |t| {
        t.contains("définitive")
    })
    .await;
    assert!(dialog.contains("ne pourra pas être annulée"), "{dialog:?}");
    click(&client, "dialog [data-action=\"confirm\"]").await;
    wait_text(&client, "#dossier-statut", "the new status", |t| {
        t.contains("Traité")
    })
    .await;

    // "Refuser" needs a message for the family before anything is sent.
    click(&client, "#dossier-back").await;
    let other = &later[1];
    click(
        &client,
        &format!("#inbox-table [data-dossier-id=\"{other}\"]"),
    )
    .await;
    click(&client, "#dossier-refuse").await;
    click(&client, "#refus-confirm").await;
    wait_text(&client, "#refus-problem", "the missing message", |t| {
        t.contains("motif")
    })
    .await;
    fill(
        &client,
        "#refus-message",
        "Attestation illisible, merci de recommencer.",
    )
    .await;
    click(&client, "#refus-confirm").await;
    wait_text(&client, "#dossier-statut", "the refusal", |t| {
        t.contains("Refusé")
    })
    .await;

    // Back in the list, a search by the family's name finds it.
    click(&client, "#dossier-back").await;
    let name = wait_text(
        &client,
        &format!("#inbox-table [data-dossier-id=\"{newest}\"]"),
        "the row",
        |t| !t.is_empty(),
    )
    .await;
    // Typed without accents, as agents often do (and as the X keymap of the test allows).
    let family: String = name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    assert!(!family.is_empty(), "{name:?}");
    fill(&client, "#inbox-search", &family).await;
    wait_text(&client, "#inbox-count", "the search result", |t| {
        t.contains("trouvé")
    })
    .await;
    let found = inbox_ids(&client).await;
    assert!(found.contains(newest), "{found:?} should contain {newest}");

    // The opening is in the access journal, under the demonstration agent's name.
    click(&client, "#nav-journal").await;
    let journal = wait_text(&client, "#journal-table", "the opening", |t| {
        t.contains("Dossier ouvert")
    })
    .await;
    assert!(journal.contains("Agent de démonstration"), "{journal:?}");

    client.close().await.expect("closing the WebDriver session");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_journal_view_verifies_the_chain_and_journals_its_own_export() {
    let Some((_driver, client)) = start_app("journal").await else {
        return;
    };
    fill_wizard_and_finish(&client, VALID_SIRET).await;
    wait_for_shell(&client).await;
    click(&client, "#nav-journal").await;
    wait_text(&client, "#view-heading", "the Journal heading", |t| {
        t == "Journal des accès"
    })
    .await;
    wait_text(&client, "#journal-list", "the empty journal", |t| {
        t.contains("Aucune ligne")
    })
    .await;
    click(&client, "#journal-verify").await;
    wait_text(&client, "#journal-verify-result", "the intact chain", |t| {
        t.contains("intact")
    })
    .await;

    // The export asks first (personal data), writes to the Documents folder and says where.
    click(&client, "#journal-export").await;
    click(&client, "dialog button[data-action=\"confirm\"]").await;
    let status = wait_text(&client, "#journal-status", "the export's path", |t| {
        t.contains("Journal exporté")
    })
    .await;
    let start = status.find("dans le fichier ").expect("the path is given") + 16;
    let end = status.find(".csv").expect("a CSV file") + 4;
    let path = PathBuf::from(&status[start..end]);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::fs::remove_file(&path).expect("the test's export removed");
    assert!(
        bytes.starts_with("\u{feff}N°;".as_bytes()),
        "a CSV for French spreadsheets"
    );

    // The export is the journal's first row, by the agent at the desk, and the chain holds.
    let table = wait_text(&client, "#journal-table", "the export row", |t| {
        t.contains("Export")
    })
    .await;
    assert!(table.contains(AGENT_NAME), "{table:?}");
    click(&client, "#journal-verify").await;
    wait_text(&client, "#journal-verify-result", "one verified row", |t| {
        t.contains("1 ligne vérifiée")
    })
    .await;

    client.close().await.expect("closing the WebDriver session");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_counter_an_agent_finds_a_staging_family_and_the_call_is_journaled() {
    let Some((_driver, client)) = start_app("counter lookup").await else {
        return;
    };
    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;
    element(&client, "#inbox-search").await;
    click(&client, "#nav-recherche").await;

    // An identity of API Particulier's staging set (CNAF, QF 2550), typed as on the ID card.
    fill_counter_identity(&client, "LEFEBVRE", &["ALEXIS"], ("27", "12", "1982")).await;
    wait_text(
        &client,
        "#counter-commune-choice",
        "the chosen commune",
        |t| t.contains("Villers-Semeuse") && t.contains("08480"),
    )
    .await;

    // Without the motif and the ID check, nothing is sent.
    click(&client, "#counter-submit").await;
    let refused = wait_text(&client, "#counter-error", "the missing motif", |t| {
        t.contains("motif")
    })
    .await;
    assert!(refused.contains("pièce d'identité"), "{refused:?}");
    submit_counter(&client, "Inscription à la cantine").await;
    let card = wait_text(&client, "#counter-result-qf", "the QF card", |t| {
        without_spaces(t).contains("2550€")
    })
    .await;
    assert!(card.contains("CAF"), "{card:?}");
    // Screen readers hear the QF itself, not only the card's heading.
    let announced = visible_or_hidden_text(&client, "#counter-announce").await;
    assert!(
        without_spaces(&announced).contains("Quotientfamilialtrouvé:2550€"),
        "{announced:?}"
    );

    // A past month: staging's MSA family of May 2026, with two first names in two fields.
    click(&client, "#nav-dossiers").await;
    click(&client, "#nav-recherche").await;
    fill_counter_identity(&client, "ROUX", &["JEANNE", "STEPHANIE"], ("", "6", "1987")).await;
    click(&client, "#counter-periode option[value=\"2026-05\"]").await;
    submit_counter(&client, "Contrôle du tarif appliqué").await;
    let card = wait_text(&client, "#counter-result-qf", "the May 2026 QF", |t| {
        t.contains("150 €") && t.contains("mai 2026")
    })
    .await;
    assert!(card.contains("MSA"), "{card:?}");
    let children = wait_text(&client, "#counter-result-enfants", "the children", |t| {
        t.contains("FLEUR")
    })
    .await;
    assert!(children.contains("ALEXIS VINCENT"), "{children:?}");
    // The demonstration token has the address scope: the caisse's address is shown.
    let address = wait_text(&client, "#counter-result-adresse", "the address", |t| {
        t.contains("75002 PARIS")
    })
    .await;
    assert!(address.contains("Madame ROUX JEANNE"), "{address:?}");

    // The journal shows the call, with its motif and without the identity.
    click(&client, "#nav-journal").await;
    let journal = wait_text(&client, "#journal-table", "the lookup", |t| {
        t.contains("Consultation du QF")
    })
    .await;
    assert!(journal.contains("Inscription à la cantine"), "{journal:?}");
    assert!(
        journal.contains("Contrôle du tarif appliqué"),
        "{journal:?}"
    );
    assert!(
        !journal.contains("LEFEBVRE") && !journal.contains("ROUX"),
        "{journal:?}"
    );

    client.close().await.expect("closing the WebDriver session");
}

/// Fills the counter form for a staging identity born in Villers-Semeuse (08480), as the agent
/// types it: one field per first name, the date parts given (empty when unknown).
async fn fill_counter_identity(
    client: &Client,
    nom: &str,
    prenoms: &[&str],
    (jour, mois, annee): (&str, &str, &str),
) {
    fill(client, "#counter-nom-naissance", nom).await;
    for (index, prenom) in prenoms.iter().enumerate() {
        if index > 0 {
            click(client, "#counter-prenom-add").await;
        }
        fill(client, &format!("#counter-prenom-{}", index + 1), prenom).await;
    }
    click(client, "label[for=\"counter-sexe-F\"]").await;
    for (css, part) in [
        ("#counter-jour", jour),
        ("#counter-mois", mois),
        ("#counter-annee", annee),
    ] {
        if !part.is_empty() {
            fill(client, css, part).await;
        }
    }
    fill(client, "#counter-commune", "Villers-Semeuse").await;
    click(client, "#counter-commune-suggestions [data-key=\"08480\"]").await;
}

/// Chooses the motif, ticks the ID check and sends the counter form.
async fn submit_counter(client: &Client, motif: &str) {
    click(client, &format!("#counter-motif option[value=\"{motif}\"]")).await;
    click(client, "label[for=\"counter-piece\"]").await;
    click(client, "#counter-submit").await;
}

/// `text` without any kind of space (French numbers group digits with a narrow no-break space).
fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The text of an element, including what only screen readers get (WebDriver's text leaves out
/// visually hidden text).
async fn visible_or_hidden_text(client: &Client, css: &str) -> String {
    element(client, css)
        .await
        .prop("textContent")
        .await
        .expect("reading textContent")
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_guardian_warns_before_expiry_and_a_compromised_token_is_withdrawn() {
    // The demonstration's token expires in 20 days: inside the 30-day warning.
    let Some((driver, client)) =
        start_app_with("token guardian", &[("GUICHET_QF_DEMO_TOKEN_DAYS", "20")]).await
    else {
        return;
    };
    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;
    let banner = wait_text(&client, "#token-banners", "the expiry warning", |t| {
        t.contains("expire le")
    })
    .await;
    assert!(
        banner.contains("dans 19 jours") || banner.contains("dans 20 jours"),
        "{banner:?}"
    );
    assert!(banner.contains("DataPass"), "who must act: {banner:?}");
    let urgency = element(&client, "#token-banners .token-banner")
        .await
        .attr("data-urgency")
        .await
        .expect("reading the urgency");
    assert_eq!(urgency.as_deref(), Some("attention"));

    // "Jeton compromis": confirmed, the token leaves the vault and the banner goes.
    click(&client, "#nav-parametres").await;
    wait_text(
        &client,
        "#secret-1-particulier_token-state",
        "the configured token",
        |t| t.contains("Configuré le"),
    )
    .await;
    click(&client, "#secret-1-particulier_token-compromised").await;
    let dialog = wait_text(&client, "dialog", "the confirmation", |t| {
        t.contains("compromis")
    })
    .await;
    assert!(dialog.contains("support"), "{dialog:?}");
    click(&client, "dialog [data-action=\"confirm\"]").await;
    wait_text(
        &client,
        "#secret-1-particulier_token-state",
        "the withdrawn token",
        |t| t.contains("Non configuré"),
    )
    .await;
    let mail = element(&client, "#secret-1-particulier_token-compromised-mail")
        .await
        .prop("value")
        .await
        .expect("reading the e-mail")
        .unwrap_or_default();
    assert!(
        mail.contains("21999999900010") && mail.contains("révoquer"),
        "{mail:?}"
    );
    let report = wait_text(
        &client,
        "#secret-1-particulier_token-compromised-report",
        "the address to write to",
        |t| t.contains("support@particulier.api.gouv.fr") || t.contains("messagerie"),
    )
    .await;
    assert!(report.contains("Jeton retiré"), "{report:?}");
    wait_text(&client, "#token-banners", "no banner any more", |t| {
        t.trim().is_empty()
    })
    .await;

    // The token is gone from the demonstration database, and the journal says who declared it.
    let demo_database = driver
        .data_dir()
        .join("demonstration")
        .join("guichet-qf.sqlite3");
    let tokens: i64 = rusqlite::Connection::open_with_flags(
        &demo_database,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("readable database")
    .query_row(
        "SELECT count(*) FROM secrets WHERE kind = 'particulier_token'",
        [],
        |row| row.get(0),
    )
    .expect("secrets counted");
    assert_eq!(tokens, 0);
    click(&client, "#nav-journal").await;
    let journal = wait_text(&client, "#journal-table", "the declaration", |t| {
        t.contains("déclaré compromis")
    })
    .await;
    assert!(journal.contains("Agent de démonstration"), "{journal:?}");

    // Without a token, the counter says who must save a new one.
    click(&client, "#nav-recherche").await;
    fill_counter_identity(&client, "LEFEBVRE", &["ALEXIS"], ("", "", "1982")).await;
    submit_counter(&client, "Inscription à la cantine").await;
    wait_text(&client, "#counter-error", "the missing token", |t| {
        t.contains("n'est pas configuré")
    })
    .await;

    client.close().await.expect("closing the WebDriver session");
}

/// A stand-in for formulaire-qf's public list of open communes, with Majastres in it.
async fn formulaire_list_server() -> String {
    const LISTED: &str = r#"[{"name":"MAJASTRES","siret":"21040107100019","code_cog":"04107"}]"#;
    let app = axum::Router::new().route(
        "/api/collectivites",
        axum::routing::get(|| async { ([("content-type", "application/json")], LISTED) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a local port for the list");
    let address = listener.local_addr().expect("the list's address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// The QR codes `zbarimg` reads in an image file, one per line.
fn zbar(image: &Path) -> Vec<String> {
    let output = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(image)
        .output()
        .expect("zbarimg (scripts/bootstrap.sh test installs it)");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_affiche_screen_previews_saves_a_poster_whose_qr_decodes_and_journals_it() {
    let list = formulaire_list_server().await;
    let Some((_driver, client)) =
        start_app_with("poster", &[("GUICHET_QF_FORMULAIRE_URL", list.as_str())]).await
    else {
        return;
    };
    const URL: &str = "https://quotient-familial.numerique.gouv.fr/collectivites/21040107100019";
    fill_wizard_and_finish(&client, VALID_SIRET).await;
    wait_for_shell(&client).await;
    click(&client, "#nav-affiche").await;
    wait_text(&client, "#view-heading", "the Affiche heading", |t| {
        t == "Affiche"
    })
    .await;
    wait_text(&client, "#poster-listing", "the open listing", |t| {
        t.contains("ouvert pour")
    })
    .await;

    // The preview is the PDF drawn by the backend: a PNG whose QR code is the commune's link.
    let deadline = Instant::now() + UI_TIMEOUT;
    let preview = loop {
        let image = element(&client, "#poster-preview-image").await;
        let src = image.attr("src").await.expect("src attribute");
        if let Some(png) = src
            .as_deref()
            .and_then(|s| s.strip_prefix("data:image/png;base64,"))
        {
            break png.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no preview within {UI_TIMEOUT:?}"
        );
        tokio::time::sleep(POLL_PERIOD).await;
    };
    use base64::Engine;
    let scratch = TempDir::new().expect("a scratch folder");
    let preview_png = scratch.path().join("preview.png");
    std::fs::write(
        &preview_png,
        base64::engine::general_purpose::STANDARD
            .decode(preview)
            .expect("base64"),
    )
    .expect("preview written");
    assert_eq!(zbar(&preview_png), vec![URL.to_string()]);

    // The agent adds the mairie's e-mail; the settings stay with the commune.
    fill(&client, "#poster-email", "mairie@majastres.fr").await;
    click(&client, "#poster-save").await;
    wait_text(&client, "#poster-status", "where the poster went", |t| {
        t.contains("enregistrée dans")
    })
    .await;
    let pdf = take_written_file(&client, "#poster-status").await;
    assert!(pdf.starts_with(b"%PDF"), "a PDF file");
    let pdf_path = scratch.path().join("affiche.pdf");
    std::fs::write(&pdf_path, &pdf).expect("PDF copied");
    let rendered = scratch.path().join("page");
    let done = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile"])
        .arg(&pdf_path)
        .arg(&rendered)
        .status()
        .expect("pdftoppm (scripts/bootstrap.sh test installs it)");
    assert!(done.success());
    assert_eq!(zbar(&rendered.with_extension("png")), vec![URL.to_string()]);

    // The journal has the print, by the agent at the desk.
    click(&client, "#nav-journal").await;
    let journal = wait_text(&client, "#journal-table", "the print", |t| {
        t.contains("Impression")
    })
    .await;
    assert!(journal.contains("affiche A4"), "{journal:?}");
    assert!(journal.contains(AGENT_NAME), "{journal:?}");

    client.close().await.expect("closing the WebDriver session");
}

/// The first word of `text` as an agent types it on the test's X keymap: lower case, accents
/// dropped, letters only ("Élodie-Anne" gives "elodie").
fn typed_word(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .take_while(|c| c.is_ascii_alphabetic())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dossier_from_the_demonstration_lands_in_its_family_and_a_counter_card_joins_the_file() {
    // A fictitious family every 4 seconds instead of every minute.
    let Some((_driver, client)) =
        start_app_with("family file", &[("GUICHET_QF_DEMO_ARRIVAL_SECONDS", "4")]).await
    else {
        return;
    };
    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;

    // The waiting dossiers are pulled, then a new one arrives and is pulled by the poller.
    element(&client, "#inbox-search").await;
    let first = wait_inbox(&client, 5, UI_TIMEOUT).await;
    let later = wait_inbox(&client, first.len() + 1, Duration::from_secs(60)).await;
    let arrived = later
        .iter()
        .find(|id| !first.contains(id))
        .expect("a dossier that arrived after the first relevé")
        .clone();
    let reference = wait_text(
        &client,
        &format!("#dossier-row-{arrived} td.mono"),
        "the dossier's reference",
        |t| t.trim().len() == 13,
    )
    .await
    .trim()
    .to_string();
    click(
        &client,
        &format!("#inbox-table [data-dossier-id=\"{arrived}\"]"),
    )
    .await;
    let qf = wait_text(&client, "#dossier-qf", "the dossier's QF", |t| {
        t.contains('€')
    })
    .await;
    let title = element(&client, "#dossier-title")
        .await
        .text()
        .await
        .expect("the dossier's title");
    let name = title.trim_start_matches("Dossier de ").to_string();

    // Familles: the family is found by its name typed without accents, then by the dossier's
    // reference, which leads to it alone.
    click(&client, "#nav-familles").await;
    let nom = typed_word(&name);
    assert!(!nom.is_empty(), "{name:?}");
    fill(&client, "#families-search", &nom).await;
    wait_text(&client, "#families-count", "the families found", |t| {
        t.contains("trouvée")
    })
    .await;
    fill(&client, "#families-search", &reference).await;
    wait_text(&client, "#families-count", "one family", |t| {
        t.contains("1 famille trouvée")
    })
    .await;
    click(&client, "#families-results [data-family-id]").await;

    // Its QF history holds the dossier's QF, from "Dossier Hubee", recorded by the system.
    let history = wait_text(&client, "#family-history", "the dossier's QF", |t| {
        t.contains("Dossier Hubee")
    })
    .await;
    assert!(
        without_spaces(&history).contains(&without_spaces(&qf)),
        "{qf:?} not in {history:?}"
    );
    assert!(history.contains("système"), "{history:?}");
    element(&client, "#family-history [data-source=\"dossier_hubee\"]").await;
    element(&client, "#family-pivot").await;
    let dossiers = wait_text(&client, "#family-dossiers", "the linked dossier", |t| {
        t.contains(&reference)
    })
    .await;
    assert!(dossiers.contains("Reçu le"), "{dossiers:?}");

    // A paper attestation with missing fields: a French message next to each of them.
    click(&client, "#family-paper-submit").await;
    let valeur = wait_text(
        &client,
        "#family-paper-valeur-error",
        "the amount's message",
        |t| t.contains("indiquez le montant"),
    )
    .await;
    assert!(valeur.starts_with("Quotient familial"), "{valeur:?}");
    wait_text(
        &client,
        "#family-paper-document-error",
        "the document's message",
        |t| t.contains("Type de document"),
    )
    .await;

    // The same attestation typed in full joins the history with its document type.
    let year = jiff::Zoned::now().year().to_string();
    fill(&client, "#family-paper-valeur", "1 234").await;
    click(&client, "#family-paper-mois option[value=\"1\"]").await;
    fill(&client, "#family-paper-annee", &year).await;
    click(&client, "#family-paper-fournisseur option[value=\"MSA\"]").await;
    click(
        &client,
        "#family-paper-document option[value=\"attestation_paiement\"]",
    )
    .await;
    click(&client, "#family-paper-submit").await;
    let history = wait_text(&client, "#family-history", "the paper attestation", |t| {
        t.contains("Attestation papier (attestation de paiement)")
    })
    .await;
    assert!(without_spaces(&history).contains("1234€"), "{history:?}");
    element(
        &client,
        "#family-history [data-source=\"attestation_papier\"]",
    )
    .await;

    // Notes, then the family's refusal of the automatic refresh, then its resumption.
    fill(&client, "#family-notes", "Rappeler apres 17 h").await;
    click(&client, "#family-notes-save").await;
    wait_text(&client, "#families-status", "the notes saved", |t| {
        t.contains("notes sont enregistrées")
    })
    .await;
    click(&client, "#family-optout-channel option[value=\"courrier\"]").await;
    // The date field's own widget differs between engines: its value is set as the picker
    // would set it.
    client
        .execute(
            "document.getElementById('family-optout-date').value = arguments[0]",
            vec![json!(format!("{year}-01-05"))],
        )
        .await
        .expect("setting the date");
    click(&client, "#family-optout-submit").await;
    let state = wait_text(&client, "#family-optout-state", "the refusal", |t| {
        t.contains("a demandé l'arrêt")
    })
    .await;
    assert!(
        state.contains(&format!("05/01/{year}")) && state.contains("par courrier"),
        "{state:?}"
    );
    assert!(state.contains("Agent de démonstration"), "{state:?}");
    click(&client, "#family-resume").await;
    wait_text(
        &client,
        "#family-optout-state",
        "the refresh resumed",
        |t| t.contains("actualisé automatiquement"),
    )
    .await;
    let notes = element(&client, "#family-notes")
        .await
        .prop("value")
        .await
        .expect("the notes")
        .unwrap_or_default();
    assert_eq!(notes, "Rappeler apres 17 h");

    // Opening the family is in the access journal.
    click(&client, "#nav-journal").await;
    wait_text(&client, "#journal-table", "the family opened", |t| {
        t.contains("Dossier famille consulté")
    })
    .await;

    // At the counter, a staging family's card is saved in the family file.
    click(&client, "#nav-recherche").await;
    fill_counter_identity(&client, "LEFEBVRE", &["ALEXIS"], ("27", "12", "1982")).await;
    submit_counter(&client, "Inscription à la cantine").await;
    wait_text(&client, "#counter-result-qf", "the QF card", |t| {
        without_spaces(t).contains("2550€")
    })
    .await;
    click(&client, "#counter-save-family").await;
    wait_text(&client, "#counter-family-status", "the confirmation", |t| {
        t.contains("Enregistré")
    })
    .await;
    click(&client, "#counter-family-open").await;
    let history = wait_text(&client, "#family-history", "the counter's QF", |t| {
        t.contains("Guichet")
    })
    .await;
    assert!(without_spaces(&history).contains("2550€"), "{history:?}");
    let title = wait_text(&client, "#family-title", "the family's name", |t| {
        t.contains("LEFEBVRE")
    })
    .await;
    assert!(
        title.contains("ALEXIS") || title.contains("Alexis"),
        "{title:?}"
    );

    // "Fusionner avec…": the demonstration family joins this one after a confirmation, with
    // its history and its dossier.
    fill(&client, "#family-merge-search", &reference).await;
    click(&client, "#family-merge-find").await;
    click(&client, "#family-merge-results [data-merge-family-id]").await;
    let dialog = wait_text(&client, "dialog", "the confirmation", |t| {
        t.contains("ne peut pas être annulée")
    })
    .await;
    assert!(dialog.contains("Fusionner"), "{dialog:?}");
    click(&client, "dialog [data-action=\"confirm\"]").await;
    let history = wait_text(&client, "#family-history", "both histories", |t| {
        t.contains("Dossier Hubee") && t.contains("Guichet")
    })
    .await;
    assert!(history.contains("Attestation papier"), "{history:?}");
    wait_text(&client, "#family-dossiers", "the merged dossier", |t| {
        t.contains(&reference)
    })
    .await;

    // Personal letters for the families without a QF of this month (the demonstration's QFs
    // are of earlier months). The preview is the backend's rendering of the letters' PDF.
    click(&client, "#family-back").await;
    let today = jiff::Zoned::now();
    click(
        &client,
        &format!(
            "#letters-since option[value=\"{}-{}\"]",
            today.year(),
            today.month()
        ),
    )
    .await;
    click(&client, "#letters-list").await;
    let count = wait_text(&client, "#letters-count", "the letters counted", |t| {
        t.contains("familles sans quotient familial récent")
    })
    .await;
    assert!(count.starts_with(|c: char| c.is_ascii_digit()), "{count:?}");
    let rows = wait_text(&client, "#letters-rows", "the families listed", |t| {
        !t.trim().is_empty()
    })
    .await;
    let this_month =
        guichet_qf::poster::letter::month_label(i32::from(today.year()), i32::from(today.month()));
    assert!(!rows.contains(&this_month), "{rows:?}");
    let image = element(&client, "#letters-preview-image").await;
    let started = Instant::now();
    loop {
        let src = image.attr("src").await.expect("the preview's source");
        if src.is_some_and(|src| src.starts_with("data:image/png;base64,")) {
            break;
        }
        assert!(started.elapsed() < UI_TIMEOUT, "no preview of the letters");
        tokio::time::sleep(POLL_PERIOD).await;
    }
    let alt = image.attr("alt").await.expect("the preview's text");
    assert!(
        alt.is_some_and(|alt| alt.starts_with("Aperçu de la lettre à la famille")),
        "the preview names the family"
    );

    // The families for the billing tool, as a French spreadsheet's CSV: one line per family
    // after the header, and the personal-data warning with the result.
    click(&client, "#export-save").await;
    let status = wait_text(&client, "#export-status", "where the export went", |t| {
        t.contains("exportée")
    })
    .await;
    assert!(status.contains("données personnelles"), "{status:?}");
    let rows: usize = status
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{status:?}"));
    let csv = take_written_file(&client, "#export-status").await;
    assert!(csv.starts_with("\u{feff}".as_bytes()), "a BOM for Excel");
    let text = String::from_utf8(csv).expect("UTF-8");
    assert_eq!(text.lines().count(), rows + 1, "{text}");
    assert!(text
        .lines()
        .next()
        .is_some_and(|header| header.contains(';')));

    client.close().await.expect("closing the WebDriver session");
}

/// The `<progress>` bar's value and maximum, as its attributes hold them (WebDriver gives
/// numeric properties as numbers, which the client does not read).
async fn progress_of(client: &Client, css: &str) -> Option<(f64, f64)> {
    let bar = client.find(Locator::Css(css)).await.ok()?;
    let value = bar.attr("value").await.ok()??.parse().ok()?;
    let max = bar.attr("max").await.ok()??.parse().ok()?;
    Some((value, max))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_shows_its_progress_and_summary_and_is_applied() {
    let Some((driver, client)) = start_app("refresh").await else {
        return;
    };
    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;
    // The waiting dossiers are pulled first: their families join the demonstration's 24.
    element(&client, "#inbox-search").await;
    let dossiers = wait_inbox(&client, 5, UI_TIMEOUT).await.len();
    click(&client, "#nav-actualisation").await;
    wait_text(&client, "#refresh-summary", "no refresh yet", |t| {
        t.contains("Aucune actualisation")
    })
    .await;

    // "Actualiser maintenant": the bar moves through the demonstration's families.
    click(&client, "#refresh-start").await;
    let deadline = Instant::now() + UI_TIMEOUT;
    let mut seen = Vec::new();
    loop {
        if let Some((value, max)) = progress_of(&client, "#refresh-progress").await {
            if max > 1.0 && seen.last() != Some(&value) {
                seen.push(value);
            }
        }
        if let Ok(summary) = client.find(Locator::Css("#refresh-summary")).await {
            if summary
                .text()
                .await
                .is_ok_and(|t| t.contains("à appliquer"))
            {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the refresh never ended: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        seen.iter().any(|v| *v > 0.0 && *v < 24.0),
        "the bar never showed a run midway: {seen:?}"
    );
    // Every family with a pivot identity is asked once: the demonstration's and those of the
    // dossiers pulled (two dossiers may come from one family).
    let summary = element(&client, "#refresh-summary")
        .await
        .text()
        .await
        .expect("the summary");
    let asked: usize = summary
        .split(" familles interrogées")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary:?}"));
    assert!(
        // One more dossier may arrive between the count and the click.
        (24 + 1..=24 + dossiers + 1).contains(&asked),
        "{asked} families asked for 24 and {dossiers} dossiers: {summary:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "the bar only moves forward: {seen:?}"
    );

    // The summary and the preview, then "Appliquer".
    let summary = wait_text(&client, "#refresh-summary", "the summary", |t| {
        t.contains("à appliquer")
    })
    .await;
    assert!(summary.contains("0 à revoir, 0 en attente"), "{summary:?}");
    let headline = wait_text(&client, "#refresh-headline", "the preview", |t| {
        t.contains("changent de QF")
    })
    .await;
    let changed: u32 = headline
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{headline:?}"));
    assert!(changed > 0, "{headline:?}");
    element(&client, "#refresh-changes").await;
    click(&client, "#refresh-apply").await;
    wait_text(&client, "#refresh-summary", "the applied run", |t| {
        t.contains("appliquée")
    })
    .await;
    let status = visible_or_hidden_text(&client, "#refresh-status").await;
    assert!(
        status.contains(&format!("{changed} QF enregistrés")),
        "{status:?}"
    );

    // The calls are in the access journal, under the agent's name and the manual motif.
    let demo_database = driver
        .data_dir()
        .join("demonstration")
        .join("guichet-qf.sqlite3");
    let store = guichet_qf::store::open(&demo_database).unwrap();
    let rows = store
        .read(|conn| {
            guichet_qf::journal::list(
                conn,
                &guichet_qf::journal::Filter::default(),
                &jiff::tz::TimeZone::UTC,
                1000,
            )
        })
        .unwrap();
    let calls = rows
        .iter()
        .filter(|r| r.motif.as_deref() == Some(guichet_qf::refresh::MOTIF_MANUAL))
        .count();
    assert_eq!(calls, asked);

    client.close().await.expect("closing the WebDriver session");
}

/// Champcevinel's canteen (users-and-peers §4.2): the bracket and price of a QF in euros, as
/// the Tarifs screen is given it below; `None`: the default tariff.
fn champcevinel(qf: Option<u32>) -> (&'static str, &'static str) {
    match qf {
        None => ("Tarif par défaut (QF non connu)", "3,50"),
        Some(0..=622) => ("Tranche 1", "1,00"),
        Some(623..=1000) => ("Tranche 2", "3,30"),
        Some(1001..=1500) => ("Tranche 3", "3,40"),
        Some(_) => ("Tranche 4", "3,50"),
    }
}

#[tokio::test]
async fn a_tariff_grid_typed_in_tarifs_prices_a_family_and_goes_into_the_billing_export() {
    let Some((_driver, client)) = start_app("tariffs").await else {
        return;
    };
    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;
    element(&client, "#inbox-search").await;
    wait_inbox(&client, 5, UI_TIMEOUT).await;

    // Tarifs: the canteen grid typed from the délibération, first with an overlap the screen
    // refuses in French, then right.
    click(&client, "#nav-tarifs").await;
    click(&client, "#tariff-new").await;
    fill(&client, "#tariff-service", "cantine").await;
    fill(&client, "#tariff-default", "3,50").await;
    let brackets = [
        ("0", "622", "1,00"),
        ("623", "1000", "3,30"),
        ("1001", "1500", "3,40"),
        ("1400", "", "3,50"),
    ];
    for (i, (min, max, price)) in brackets.iter().enumerate() {
        let n = i + 1;
        if n > 1 {
            click(&client, "#tariff-bracket-add").await;
        }
        fill(&client, &format!("#tariff-bracket-{n}-min"), min).await;
        if !max.is_empty() {
            fill(&client, &format!("#tariff-bracket-{n}-max"), max).await;
        }
        fill(&client, &format!("#tariff-bracket-{n}-price"), price).await;
    }
    click(&client, "#tariff-save").await;
    let refused = wait_text(&client, "#tariff-editor-error", "the overlap", |t| {
        t.contains("se chevauchent")
    })
    .await;
    assert!(
        refused.contains("ne peut pas être enregistrée"),
        "{refused:?}"
    );
    fill(&client, "#tariff-bracket-4-min", "1501").await;
    click(&client, "#tariff-save").await;
    wait_text(&client, "#tariffs-status", "the grid saved", |t| {
        t.contains("Grille « cantine » enregistrée")
    })
    .await;
    let grids = wait_text(&client, "#tariff-grids", "the grid listed", |t| {
        t.contains("cantine")
    })
    .await;
    assert!(grids.contains("4 tranches, par repas"), "{grids:?}");
    // The distribution counts every family of the commune, with no name.
    let chart = wait_text(&client, "#tariff-distribution figure", "the chart", |t| {
        t.contains("familles")
    })
    .await;
    let counted: u32 = element(&client, "#tariff-distribution figure")
        .await
        .find_all(Locator::Css("td[data-count]"))
        .await
        .expect("the counts")
        .len() as u32;
    assert_eq!(counted, 5, "four brackets and the unknown QFs: {chart:?}");

    // A dossier shows the tariff of its QF.
    click(&client, "#nav-dossiers").await;
    let ids = wait_inbox(&client, 5, UI_TIMEOUT).await;
    click(
        &client,
        &format!("#inbox-table [data-dossier-id=\"{}\"]", ids[0]),
    )
    .await;
    let reference = wait_text(&client, "#dossier-summary .mono", "the reference", |t| {
        t.trim().len() == 13
    })
    .await
    .trim()
    .to_string();
    let qf_text = wait_text(&client, "#dossier-qf", "the dossier's QF", |t| {
        !t.trim().is_empty()
    })
    .await;
    let digits: String = qf_text.chars().filter(char::is_ascii_digit).collect();
    let (bracket, price) = champcevinel(digits.parse().ok());
    let shown = wait_text(&client, "#dossier-tariffs", "the dossier's tariff", |t| {
        t.contains("cantine")
    })
    .await;
    assert!(
        shown.contains(bracket) && shown.contains(&format!("{price} € par repas")),
        "{qf_text:?} → {bracket} {price}: {shown:?}"
    );

    // Its family's file says the same, from the family's latest QF.
    click(&client, "#nav-familles").await;
    fill(&client, "#families-search", &reference).await;
    wait_text(&client, "#families-count", "one family", |t| {
        t.contains("1 famille trouvée")
    })
    .await;
    click(&client, "#families-results [data-family-id]").await;
    // A dossier sent without a QF (the CAF answered "ERREUR") leaves a family without history.
    let history = wait_text(&client, "#family-history", "the QF history", |t| {
        !t.trim().is_empty()
    })
    .await;
    let latest = if history.contains("Aucun quotient familial enregistré") {
        None
    } else {
        let cell = wait_text(
            &client,
            "#family-history tbody tr:first-child .qf-cell",
            "the latest QF",
            |t| !t.trim().is_empty(),
        )
        .await;
        let digits: String = cell.chars().filter(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let (bracket, price) = champcevinel(latest);
    let shown = wait_text(&client, "#family-tariffs", "the family's tariff", |t| {
        t.contains("cantine")
    })
    .await;
    assert!(
        shown.contains(bracket) && shown.contains(&format!("{price} € par repas")),
        "{latest:?} → {bracket} {price}: {shown:?}"
    );
    let code = element(&client, "#family-code")
        .await
        .text()
        .await
        .expect("the family's code");

    // The billing export has the canteen's bracket and price, the family's line included.
    click(&client, "#family-back").await;
    click(&client, "#export-save").await;
    wait_text(&client, "#export-status", "where the export went", |t| {
        t.contains("exportée")
    })
    .await;
    let csv = String::from_utf8(take_written_file(&client, "#export-status").await).expect("UTF-8");
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().expect("a header").split(';').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name:?} in {header:?}"))
    };
    let (code_at, tranche_at, tarif_at) = (
        column("Code famille"),
        column("Tranche cantine"),
        column("Tarif cantine (€ par repas)"),
    );
    let line: Vec<&str> = lines
        .map(|l| l.split(';').collect::<Vec<_>>())
        .find(|cells| cells.get(code_at) == Some(&code.trim()))
        .unwrap_or_else(|| panic!("the family {code} not in {csv}"));
    assert_eq!(
        (line[tranche_at], line[tarif_at]),
        (bracket, price),
        "{csv}"
    );

    client.close().await.expect("closing the WebDriver session");
}

/// Saves what the window shows as `name`.png in `dir`, once the page stands still.
async fn capture(dir: &Path, name: &str) {
    tokio::time::sleep(Duration::from_millis(600)).await;
    // What the X server shows, read with ImageMagick's `import` (scripts/screenshots.sh installs
    // it): WebKitWebDriver's own screenshot command never answers under Xvfb with WebKitGTK
    // 2.50. Without a window manager the window sits in the top left corner.
    let path = dir.join(format!("{name}.png"));
    let status = Command::new("import")
        .args(["-window", "root", "-crop", "1280x860+0+0", "+repage"])
        .arg(&path)
        .stdin(Stdio::null())
        .status()
        .expect("ImageMagick's import");
    assert!(status.success(), "import failed for {}", path.display());
}

/// Not a check: the screenshots of the agent's guide (`docs/guide-agent.md`), taken in the real
/// window on the demonstration, into the folder `GUICHET_QF_CAPTURES` names.
#[tokio::test]
#[ignore = "writes the guide's screenshots: bash scripts/screenshots.sh"]
async fn screenshots_of_every_screen_for_the_guide() {
    let dir = PathBuf::from(
        std::env::var_os("GUICHET_QF_CAPTURES").expect("GUICHET_QF_CAPTURES: where to write"),
    );
    std::fs::create_dir_all(&dir).expect("the screenshots' folder");
    let Some((_driver, client)) = start_app("screenshots").await else {
        panic!("TAURI_E2E=1 and a display are needed for the screenshots");
    };
    client
        .set_window_size(1280, 860)
        .await
        .expect("the window's size");
    wizard_step(&client, "welcome").await;
    capture(&dir, "01-premier-demarrage").await;
    click(&client, "#wizard-demo").await;

    element(&client, "#inbox-search").await;
    let ids = wait_inbox(&client, 5, UI_TIMEOUT).await;
    capture(&dir, "02-dossiers").await;
    click(
        &client,
        &format!("#inbox-table [data-dossier-id=\"{}\"]", ids[0]),
    )
    .await;
    let reference = wait_text(&client, "#dossier-summary .mono", "the reference", |t| {
        t.trim().len() == 13
    })
    .await
    .trim()
    .to_string();
    capture(&dir, "03-dossier").await;

    click(&client, "#nav-recherche").await;
    fill_counter_identity(&client, "LEFEBVRE", &["ALEXIS"], ("27", "12", "1982")).await;
    capture(&dir, "04-recherche-qf").await;
    submit_counter(&client, "Inscription à la cantine").await;
    wait_text(&client, "#counter-result-qf", "the QF card", |t| {
        t.contains('€')
    })
    .await;
    capture(&dir, "05-recherche-qf-resultat").await;

    click(&client, "#nav-tarifs").await;
    click(&client, "#tariff-new").await;
    fill(&client, "#tariff-service", "cantine").await;
    fill(&client, "#tariff-default", "3,50").await;
    for (n, (min, max, price)) in [
        ("0", "622", "1,00"),
        ("623", "1000", "3,30"),
        ("1001", "", "3,50"),
    ]
    .iter()
    .enumerate()
    {
        if n > 0 {
            click(&client, "#tariff-bracket-add").await;
        }
        fill(&client, &format!("#tariff-bracket-{}-min", n + 1), min).await;
        if !max.is_empty() {
            fill(&client, &format!("#tariff-bracket-{}-max", n + 1), max).await;
        }
        fill(&client, &format!("#tariff-bracket-{}-price", n + 1), price).await;
    }
    wait_text(&client, "#tariff-problems", "the check", |t| !t.is_empty()).await;
    capture(&dir, "06-tarifs-grille").await;
    click(&client, "#tariff-save").await;
    element(&client, "#tariff-distribution figure").await;
    capture(&dir, "07-tarifs").await;

    click(&client, "#nav-familles").await;
    element(&client, "#families-search").await;
    capture(&dir, "08-familles").await;
    fill(&client, "#families-search", &reference).await;
    click(&client, "#families-results [data-family-id]").await;
    element(&client, "#family-tariffs table").await;
    capture(&dir, "09-dossier-famille").await;

    click(&client, "#nav-actualisation").await;
    element(&client, "#refresh-summary").await;
    capture(&dir, "10-actualisation").await;
    click(&client, "#nav-affiche").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    capture(&dir, "11-affiche").await;
    click(&client, "#nav-journal").await;
    element(&client, "#journal-table").await;
    capture(&dir, "12-journal").await;
    click(&client, "#nav-parametres").await;
    capture(&dir, "13-parametres").await;
    click(&client, "#nav-a-propos").await;
    element(&client, "#about-support-text").await;
    capture(&dir, "14-a-propos").await;
    click(&client, "#lock-button").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    capture(&dir, "15-verrouillage").await;

    client.close().await.expect("closing the WebDriver session");
}

/// What the focused element is and whether its focus ring can be seen: an outline at least
/// 2 px wide (RGAA 10.7), or a box shadow.
#[derive(Debug, serde::Deserialize)]
struct Focused {
    /// `#id` or the tag name, for the failure messages.
    name: String,
    matches: bool,
    outline_width: f64,
    outline_style: String,
    box_shadow: String,
}

impl Focused {
    fn ring_visible(&self) -> bool {
        (self.outline_style != "none" && self.outline_width >= 2.0) || self.box_shadow != "none"
    }
}

async fn focused(client: &Client, css: &str) -> Focused {
    let script = r#"
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
            name: el.id ? `#${el.id}` : el.tagName.toLowerCase(),
            matches: el.matches(arguments[0]),
            outline_width: parseFloat(style.outlineWidth) || 0,
            outline_style: style.outlineStyle,
            box_shadow: style.boxShadow,
        };
    "#;
    let value = client
        .execute(script, vec![json!(css)])
        .await
        .expect("reading the focused element");
    serde_json::from_value(value).expect("the focused element's description")
}

/// Presses one key (with Shift held when asked) through WebDriver's keyboard, as a person at
/// the keyboard does: nothing is clicked and no element is targeted.
async fn press(client: &Client, key: fantoccini::key::Key, shift: bool) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    use fantoccini::key::Key;
    let mut actions = KeyActions::new("clavier".to_string());
    if shift {
        actions = actions.then(KeyAction::Down {
            value: Key::Shift.into(),
        });
    }
    actions = actions
        .then(KeyAction::Down { value: key.into() })
        .then(KeyAction::Up { value: key.into() });
    if shift {
        actions = actions.then(KeyAction::Up {
            value: Key::Shift.into(),
        });
    }
    client
        .perform_actions(actions)
        .await
        .expect("pressing a key");
}

/// Types text into the focused field, key after key.
async fn type_text(client: &Client, text: &str) {
    client
        .active_element()
        .await
        .expect("a focused field")
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing {text:?}: {e}"));
}

/// Waits until the focused element matches `css` and asserts that its focus ring shows.
async fn assert_focus(client: &Client, css: &str) {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let now = focused(client, css).await;
        if now.matches {
            assert!(
                now.ring_visible(),
                "the focus on `{css}` cannot be seen: {now:?}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "focus never reached `{css}`; it is on {}",
            now.name
        );
        tokio::time::sleep(POLL_PERIOD).await;
    }
}

/// Presses Tab (or Shift+Tab) until the focused element matches `css`, at most `most` times,
/// then asserts its focus ring shows. Fails with the path the focus took.
async fn tab_to(client: &Client, css: &str, backwards: bool, most: usize) {
    let mut path = Vec::new();
    for _ in 0..most {
        let now = focused(client, css).await;
        if now.matches {
            assert!(
                now.ring_visible(),
                "the focus on `{css}` cannot be seen: {now:?}"
            );
            return;
        }
        path.push(now.name);
        press(client, fantoccini::key::Key::Tab, backwards).await;
    }
    let now = focused(client, css).await;
    assert!(
        now.matches,
        "`{css}` not reached in {most} presses of {}Tab; focus went through {path:?} to {}",
        if backwards { "Shift+" } else { "" },
        now.name
    );
    assert!(
        now.ring_visible(),
        "the focus on `{css}` cannot be seen: {now:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_keyboard_alone_an_agent_starts_the_demonstration_reaches_every_view_and_looks_a_family_up(
) {
    use fantoccini::key::Key;
    let Some((_driver, client)) = start_app("keyboard walk").await else {
        return;
    };

    // The wizard's first screen puts focus on its heading; "Essayer avec des données
    // fictives" is two Tabs away.
    wizard_step(&client, "welcome").await;
    assert_focus(&client, "#wizard-heading").await;
    tab_to(&client, "#wizard-demo", false, 4).await;
    press(&client, Key::Enter, false).await;

    // The shell opens on Dossiers, focus on the view's heading.
    element(&client, "#inbox-search").await;
    assert_focus(&client, "#view-heading").await;

    // Every view from the menu: back up from the heading to the menu link, Enter, and the
    // new view's heading has the focus.
    for (view, title) in [
        ("recherche", "Recherche QF"),
        ("familles", "Familles"),
        ("actualisation", "Actualisation"),
        ("tarifs", "Tarifs"),
        ("affiche", "Affiche"),
        ("journal", "Journal"),
        ("parametres", "Paramètres"),
        ("dossiers", "Dossiers"),
    ] {
        tab_to(&client, &format!("#nav-{view}"), true, 16).await;
        press(&client, Key::Enter, false).await;
        assert_focus(&client, "#view-heading").await;
        wait_text(&client, "#view-heading", title, |t| t.contains(title)).await;
        let current = element(&client, &format!("#nav-{view}"))
            .await
            .attr("aria-current")
            .await
            .expect("aria-current");
        assert_eq!(current.as_deref(), Some("page"), "{view}");
    }

    // A dossier's detail and back: focus goes to the dossier's title, then back to its row.
    wait_inbox(&client, 1, UI_TIMEOUT).await;
    tab_to(&client, "#inbox-table [data-dossier-id]", false, 20).await;
    let focused_dossier = || async {
        client
            .execute(
                "return document.activeElement.dataset.dossierId ?? null",
                vec![],
            )
            .await
            .expect("the focused dossier")
    };
    let opened = focused_dossier().await;
    assert!(opened.is_string(), "{opened:?}");
    press(&client, Key::Enter, false).await;
    element(&client, "#dossier-detail").await;
    assert_focus(&client, "#dossier-title").await;
    tab_to(&client, "#dossier-back", true, 12).await;
    press(&client, Key::Enter, false).await;
    assert_focus(&client, "#inbox-table [data-dossier-id]").await;
    assert_eq!(
        focused_dossier().await,
        opened,
        "back on the list, focus is on the dossier opened"
    );

    // The counter form, typed and sent without the mouse.
    tab_to(&client, "#nav-recherche", true, 16).await;
    press(&client, Key::Enter, false).await;
    assert_focus(&client, "#view-heading").await;
    tab_to(&client, "#counter-nom-naissance", false, 4).await;
    type_text(&client, "LEFEBVRE").await;
    tab_to(&client, "#counter-prenom-1", false, 4).await;
    type_text(&client, "ALEXIS").await;
    // The radio group takes one Tab; the arrows choose inside it.
    tab_to(&client, "#counter-sexe-F", false, 4).await;
    press(&client, Key::Down, false).await;
    assert_focus(&client, "#counter-sexe-M:checked").await;
    press(&client, Key::Up, false).await;
    assert_focus(&client, "#counter-sexe-F:checked").await;
    tab_to(&client, "#counter-jour", false, 4).await;
    type_text(&client, "27").await;
    tab_to(&client, "#counter-mois", false, 2).await;
    type_text(&client, "12").await;
    tab_to(&client, "#counter-annee", false, 2).await;
    type_text(&client, "1982").await;
    tab_to(&client, "#counter-commune", false, 6).await;
    type_text(&client, "Villers-Semeuse").await;
    element(&client, "#counter-commune-suggestions [data-key=\"08480\"]").await;
    tab_to(
        &client,
        "#counter-commune-suggestions [data-key=\"08480\"]",
        false,
        12,
    )
    .await;
    press(&client, Key::Enter, false).await;
    // Once chosen, the commune is shown in words and focus is on "Changer".
    assert_focus(&client, "#counter-commune-change").await;
    wait_text(
        &client,
        "#counter-commune-choice",
        "the chosen commune",
        |t| t.contains("Villers-Semeuse"),
    )
    .await;
    tab_to(&client, "#counter-motif", false, 8).await;
    press(&client, Key::Down, false).await;
    let motif = client
        .execute(
            "return document.getElementById('counter-motif').value",
            vec![],
        )
        .await
        .expect("the motif");
    assert_eq!(motif, json!("Inscription à la cantine"));
    tab_to(&client, "#counter-piece", false, 4).await;
    press(&client, Key::Space, false).await;
    assert_focus(&client, "#counter-piece:checked").await;
    tab_to(&client, "#counter-submit", false, 4).await;
    press(&client, Key::Enter, false).await;
    let card = wait_text(&client, "#counter-result-qf", "the QF card", |t| {
        without_spaces(t).contains("2550€")
    })
    .await;
    assert!(card.contains("CAF"), "{card:?}");
    assert_focus(&client, "#counter-result-heading").await;

    client.close().await.expect("closing the WebDriver session");
}

/// What X's clipboard holds, read with xclip (installed by `scripts/bootstrap.sh test`).
fn clipboard_text() -> String {
    let output = Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .stdin(Stdio::null())
        .output()
        .expect("xclip, from scripts/bootstrap.sh test");
    assert!(output.status.success(), "xclip: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 on the clipboard")
}

#[tokio::test]
async fn a_propos_shows_the_version_and_where_the_files_are_and_copies_the_support_text() {
    let Some((driver, client)) = start_app("about").await else {
        return;
    };
    wizard_step(&client, "welcome").await;
    click(&client, "#wizard-demo").await;
    wait_text(&client, "#demo-banner", "the demonstration", |t| {
        t.contains("Mode démonstration")
    })
    .await;

    click(&client, "#nav-a-propos").await;
    let version = wait_text(&client, "#about-version", "the version", |t| !t.is_empty()).await;
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let data_dir = element(&client, "#about-data-dir")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(Path::new(&data_dir), driver.data_dir());
    // The page logged its first paint, so today's log file exists where the view says.
    let log_file = element(&client, "#about-log-file")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        Path::new(&log_file).starts_with(driver.data_dir().join("logs")),
        "{log_file}"
    );
    assert!(
        read_log(Path::new(&log_file)).contains("first paint"),
        "{log_file}"
    );

    let text = client
        .execute(
            "return document.getElementById('about-support-text').value",
            vec![],
        )
        .await
        .expect("the support text")
        .as_str()
        .expect("a string")
        .to_string();
    assert!(
        text.starts_with(&format!("Guichet QF {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("Mode démonstration : oui"), "{text}");
    assert!(text.contains("Moteur d'affichage : WebKitGTK "), "{text}");
    assert!(
        text.contains(
            "- Commune de démonstration (SIRET 21999999900010), simulateur ; identifiants \
             Hubee : oui ; jeton API Particulier : oui"
        ),
        "{text}"
    );
    assert!(!text.contains("Agent de démonstration"), "{text}");

    click(&client, "#about-copy").await;
    wait_text(
        &client,
        "#about-copy-status",
        "the copy confirmation",
        |t| t.contains("Informations copiées"),
    )
    .await;
    assert_eq!(clipboard_text(), text);

    client.close().await.expect("closing the WebDriver session");
}
