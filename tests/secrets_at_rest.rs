//! Known secrets go through the app's normal flows (CLI and domain, with the most verbose logging),
//! then every byte of the data directory — database, WAL, backups, logs — is scanned: no secret
//! may be found in clear, as UTF-8 or UTF-16.

mod common;

use std::path::{Path, PathBuf};

use common::{contains, ADD_MAJASTRES};

const PASSPHRASE: &str = "phrase-témoin-Quokka-7731";
const TOKEN: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJtYXJxdWV1ciI6IlF1b2trYVRva2VuIn0.UXVva2thU2lnbmF0dXJlNzczMQ";
const CLIENT_ID: &str = "quokka-client-id-7731";
const CLIENT_SECRET: &str = "Quokka-Secret-Hubee-7731";
const PIN: &str = "77317731";
const PROXY_PASSWORD: &str = "Quokka-Proxy-Mot-7731";

/// Runs the CLI with the most verbose log and checks it printed no secret either.
fn cli(dir: &Path, args: &[&str], stdin: &str) {
    let output = common::run(
        dir,
        args,
        stdin,
        &[
            ("GUICHET_QF_KEYSTORE", "aucun"),
            ("GUICHET_QF_PASSPHRASE", PASSPHRASE),
            ("GUICHET_QF_LOG", "trace"),
        ],
    );
    let printed = [output.stdout, output.stderr].concat();
    for secret in [
        TOKEN,
        CLIENT_ID,
        CLIENT_SECRET,
        PASSPHRASE,
        PIN,
        PROXY_PASSWORD,
    ] {
        assert!(
            !contains(&printed, secret.as_bytes()),
            "`{}` printed a secret",
            args.join(" ")
        );
    }
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn no_secret_is_ever_written_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    cli(data, &ADD_MAJASTRES, "");
    cli(data, &["agent", "add", "--nom", "Émilie"], PIN);
    cli(data, &["secret", "set", "particulier-token"], TOKEN);
    cli(data, &["secret", "set", "hubee-client-id"], CLIENT_ID);
    cli(
        data,
        &["secret", "set", "hubee-client-secret"],
        CLIENT_SECRET,
    );
    // Replacing a value and failed attempts go through the same paths.
    cli(
        data,
        &["secret", "set", "hubee-client-secret"],
        &format!("{CLIENT_SECRET} avec espace"),
    );
    cli(
        data,
        &["secret", "set", "hubee-client-secret"],
        CLIENT_SECRET,
    );
    cli(
        data,
        &[
            "reseau",
            "regler",
            "--mode",
            "manuel",
            "--hote",
            "proxy.mairie.local",
            "--port",
            "3128",
            "--identifiant",
            "quokka",
            "--mot-de-passe",
        ],
        PROXY_PASSWORD,
    );
    cli(data, &["reseau", "afficher"], "");
    cli(data, &["secret", "list", "--json"], "");
    cli(data, &["sauvegarde", "creer"], "");
    cli(data, &["commune", "list", "--json"], "");
    cli(data, &["agent", "list"], "");

    // Domain flows the window uses: read back, delete (with its safety backup), restore.
    let store = guichet_qf::store::open(&data.join(guichet_qf::store::DATABASE_FILE)).unwrap();
    let key = guichet_qf::vault::unlock_with_passphrase(&store, &PASSPHRASE.into()).unwrap();
    let commune = store
        .read(|conn| guichet_qf::communes::resolve(conn, None))
        .unwrap();
    let token = guichet_qf::vault::get(
        &store,
        &key,
        commune.id,
        guichet_qf::vault::SecretKind::ParticulierToken,
    )
    .unwrap()
    .unwrap();
    use guichet_qf::vault::ExposeSecret;
    assert_eq!(token.expose_secret(), TOKEN, "the round trip works");
    let proxy_password = guichet_qf::vault::get_installation(
        &store,
        &key,
        guichet_qf::vault::InstallationSecret::ProxyPassword,
    )
    .unwrap()
    .expect("the proxy password was saved");
    assert_eq!(proxy_password.expose_secret(), PROXY_PASSWORD);
    let now = jiff::Timestamp::now();
    guichet_qf::vault::delete(
        &store,
        commune.id,
        guichet_qf::vault::SecretKind::HubeeClientId,
        now,
    )
    .unwrap();
    let manual = guichet_qf::store::backup::list(&store)
        .unwrap()
        .into_iter()
        .find(|b| b.kind == guichet_qf::store::backup::BackupKind::Manual)
        .unwrap();
    guichet_qf::store::backup::restore(&store, &manual.name, now).unwrap();
    drop(store);

    let scanned = files(data);
    let names: Vec<String> = scanned
        .iter()
        .map(|p| p.strip_prefix(data).unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "guichet-qf.sqlite3"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("backups/")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("logs/")), "{names:?}");
    let logs: usize = scanned
        .iter()
        .filter(|p| p.starts_with(data.join("logs")))
        .map(|p| std::fs::metadata(p).unwrap().len() as usize)
        .sum();
    assert!(logs > 0, "the flows were logged");

    for path in &scanned {
        let bytes = std::fs::read(path).unwrap();
        for secret in [
            TOKEN,
            CLIENT_ID,
            CLIENT_SECRET,
            PASSPHRASE,
            PIN,
            PROXY_PASSWORD,
        ] {
            for needle in [secret.as_bytes().to_vec(), utf16(secret)] {
                assert!(
                    !contains(&bytes, &needle),
                    "a secret was found in clear in {}",
                    path.display()
                );
            }
        }
        // The JWT's payload segment is distinctive enough on its own.
        let payload = TOKEN.split('.').nth(1).unwrap();
        assert!(
            !contains(&bytes, payload.as_bytes()),
            "token payload in {}",
            path.display()
        );
    }
}
