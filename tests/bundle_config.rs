//! The installers' configuration, read the way the Tauri CLI reads it.
//!
//! The Windows installers can only be built on Windows, but their configuration is data: the
//! CLI merges `tauri.windows.conf.json` into `tauri.conf.json` (JSON Merge Patch), then merges
//! each `--config` overlay, and deserialises the result into `tauri_utils::config::Config`,
//! which refuses unknown fields. These tests do the same, so that a misspelt key or a lost
//! setting fails here rather than on the day someone builds on Windows.
//!
//! The overlays in `docs/installation-windows.md` (signing, offline build) are checked the same
//! way: each `json` block of that page must be a valid overlay.

use std::path::Path;

use serde_json::Value;
use tauri_utils::config::{
    parse, BundleTarget, BundleType, Config, NSISInstallerMode, WebviewInstallMode, WixLanguage,
};
use tauri_utils::platform::Target;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The configuration as `tauri build` sees it on `target`, before any overlay.
fn platform_value(target: Target) -> Value {
    parse::read_from(target, root())
        .unwrap_or_else(|error| panic!("configuration for {target}: {error}"))
        .0
}

fn config(value: Value) -> Config {
    serde_json::from_value(value).unwrap_or_else(|error| panic!("invalid configuration: {error}"))
}

fn with_overlay(mut base: Value, overlay: &Value) -> Value {
    json_patch::merge(&mut base, overlay);
    base
}

fn targets(config: &Config) -> Vec<BundleType> {
    match &config.bundle.targets {
        BundleTarget::List(list) => list.clone(),
        BundleTarget::One(one) => vec![one.clone()],
        BundleTarget::All => panic!("\"all\" would try AppImage, which cannot be built offline"),
    }
}

#[test]
fn linux_builds_the_deb_only() {
    let config = config(platform_value(Target::Linux));
    assert_eq!(targets(&config), vec![BundleType::Deb]);
    assert_eq!(config.product_name.as_deref(), Some("Guichet QF"));
    assert_eq!(config.version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert!(config.bundle.short_description.is_some() && config.bundle.publisher.is_some());
}

#[test]
fn windows_builds_a_per_user_nsis_installer_and_an_msi_with_webview2_embedded() {
    let config = config(platform_value(Target::Windows));
    assert_eq!(targets(&config), vec![BundleType::Nsis, BundleType::Msi]);
    let windows = &config.bundle.windows;
    assert!(
        matches!(
            windows.webview_install_mode,
            WebviewInstallMode::EmbedBootstrapper { silent: true }
        ),
        "{:?}",
        windows.webview_install_mode
    );
    let nsis = windows.nsis.as_ref().expect("NSIS settings");
    assert_eq!(nsis.install_mode, NSISInstallerMode::CurrentUser);
    assert_eq!(nsis.languages.as_deref(), Some(&["French".to_string()][..]));
    let wix = windows.wix.as_ref().expect("WiX settings");
    assert!(matches!(&wix.language, WixLanguage::One(language) if language == "fr-FR"));
    // An older version cannot open data written by a newer one (the store's guard), so the
    // installer refuses to go back instead.
    assert!(!windows.allow_downgrades);
    // The executable needs an .ico for its resources, and the file must exist.
    let ico = config
        .bundle
        .icon
        .iter()
        .find(|icon| icon.ends_with(".ico"))
        .expect("an .ico in bundle.icon");
    let bytes = std::fs::read(root().join(ico)).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "{ico} is not a Windows icon");
}

#[test]
fn nothing_is_signed_with_a_made_up_certificate() {
    let config = config(platform_value(Target::Windows));
    let windows = &config.bundle.windows;
    assert_eq!(windows.certificate_thumbprint, None);
    assert!(windows.sign_command.is_none());
    assert_eq!(windows.digest_algorithm.as_deref(), Some("sha256"));
}

#[test]
fn the_offline_variant_embeds_the_webview2_installer() {
    let overlay: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("packaging/windows-offline.conf.json")).unwrap(),
    )
    .unwrap();
    let config = config(with_overlay(platform_value(Target::Windows), &overlay));
    assert!(
        matches!(
            config.bundle.windows.webview_install_mode,
            WebviewInstallMode::OfflineInstaller { silent: true }
        ),
        "{:?}",
        config.bundle.windows.webview_install_mode
    );
    // Only the WebView2 mode changes: still per user, still both installers.
    assert_eq!(targets(&config), vec![BundleType::Nsis, BundleType::Msi]);
    assert_eq!(
        config.bundle.windows.nsis.as_ref().unwrap().install_mode,
        NSISInstallerMode::CurrentUser
    );
}

/// The `json` blocks of the Windows installation page, in order.
fn documented_overlays() -> Vec<Value> {
    let page = std::fs::read_to_string(root().join("docs/installation-windows.md")).unwrap();
    let mut overlays = Vec::new();
    let mut block: Option<String> = None;
    for line in page.lines() {
        match (&mut block, line.trim_start()) {
            (None, "```json") => block = Some(String::new()),
            (Some(text), "```") => {
                overlays.push(
                    serde_json::from_str(text)
                        .unwrap_or_else(|error| panic!("json block: {error}\n{text}")),
                );
                block = None;
            }
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    overlays
}

#[test]
fn the_signing_overlays_of_the_installation_page_are_valid_configuration() {
    let overlays = documented_overlays();
    let signed: Vec<Config> = overlays
        .iter()
        .map(|overlay| config(with_overlay(platform_value(Target::Windows), overlay)))
        .collect();
    assert!(
        signed.iter().any(
            |config| config.bundle.windows.certificate_thumbprint.is_some()
                && config.bundle.windows.timestamp_url.is_some()
        ),
        "the page shows signing with a certificate thumbprint"
    );
    assert!(
        signed
            .iter()
            .any(|config| config.bundle.windows.sign_command.is_some()),
        "the page shows signing with a sign command"
    );
}
