//! The secrets vault: Hubee credentials and API Particulier tokens, per commune.
//!
//! Why this shape:
//! - A token is a ~4 KB JWT and Windows Credential Manager holds 2,560 bytes, so secrets cannot
//!   live in the OS keystore themselves. They are sealed with XChaCha20-Poly1305 under one random
//!   32-byte **data key** and stored in SQLite; only the data key goes to the keystore.
//! - Where there is no keystore (a headless Linux PC, CI), the data key is derived from a
//!   passphrase with Argon2id instead; the UI asks for it, the CLI reads it from the shell layer.
//! - Each ciphertext is bound (AEAD associated data) to this vault, the commune and the kind of
//!   secret, so a sealed value cannot be moved to another row or another installation.
//! - Secrets are [`SecretString`]s: they implement neither `Serialize` nor a revealing `Debug`, so
//!   the compiler keeps them out of IPC replies, JSON output and logs. Reading the clear value
//!   takes an explicit `expose_secret()`, which only HTTP clients should ever call.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension};
pub use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::error::{Code, Error, Result};
use crate::store::{backup, Store};

/// The service name under which the data key is kept in the OS keystore.
pub const KEYSTORE_SERVICE: &str = "fr.guichet-qf.coffre";

/// Minimum passphrase length, in characters.
pub const PASSPHRASE_MIN_CHARS: usize = 10;

/// Sealed known plaintext: tells a wrong passphrase or key from a damaged secret.
const CHECK_PLAINTEXT: &[u8] = b"guichet-qf: cle du coffre correcte";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SecretKind {
    #[value(name = "hubee-client-id")]
    HubeeClientId,
    #[value(name = "hubee-client-secret")]
    HubeeClientSecret,
    #[value(name = "particulier-token")]
    ParticulierToken,
}

impl SecretKind {
    pub const ALL: [SecretKind; 3] = [
        SecretKind::HubeeClientId,
        SecretKind::HubeeClientSecret,
        SecretKind::ParticulierToken,
    ];

    fn as_str(self) -> &'static str {
        match self {
            SecretKind::HubeeClientId => "hubee_client_id",
            SecretKind::HubeeClientSecret => "hubee_client_secret",
            SecretKind::ParticulierToken => "particulier_token",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SecretKind::HubeeClientId => "l'identifiant client Hubee",
            SecretKind::HubeeClientSecret => "la clé secrète Hubee",
            SecretKind::ParticulierToken => "le jeton API Particulier",
        }
    }

    /// The secret's name at the start of a line, for a list: "Clé secrète Hubee".
    pub fn title(self) -> &'static str {
        match self {
            SecretKind::HubeeClientId => "Identifiant client Hubee",
            SecretKind::HubeeClientSecret => "Clé secrète Hubee",
            SecretKind::ParticulierToken => "Jeton API Particulier",
        }
    }
}

/// What the UI may know of a secret: whether and when it was configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SecretStatus {
    pub kind: SecretKind,
    #[ts(type = "string | null")]
    pub configured_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum KeySource {
    /// The data key is in the OS keystore (Credential Manager, Keychain, Secret Service).
    Keystore,
    /// The data key is derived from a passphrase typed at each start.
    Passphrase,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct VaultStatus {
    /// `None` until the first secret or the first-run setup chose a source.
    pub source: Option<KeySource>,
    pub unlocked: bool,
    pub keystore_available: bool,
}

/// The vault's data key, in memory only: wiped on drop, never printed.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([masqué])")
    }
}

impl DataKey {
    fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&key);
        DataKey(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != key.len() {
            return None;
        }
        key.copy_from_slice(bytes);
        Some(DataKey(key))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&self.0[..]))
    }
}

/// Where the data key is kept when the OS offers a keystore. A trait so that the shell can pick
/// "no keystore" (headless machines, tests) and tests can stand in for the OS.
pub trait Keystore: Send + Sync {
    /// `Err` with [`Code::KeystoreUnavailable`] when there is no usable keystore.
    fn load(&self, account: &str) -> Result<Option<DataKey>>;
    fn save(&self, account: &str, key: &DataKey) -> Result<()>;

    /// Whether a keystore answers at all (a missing entry is an answer).
    fn available(&self) -> bool {
        self.load("sonde-disponibilite").is_ok()
    }
}

/// The operating system's keystore, through the `keyring` crate.
pub struct OsKeystore;

fn keystore_error(error: keyring::Error) -> Error {
    Error::new(
        Code::KeystoreUnavailable,
        "Le trousseau de sécurité du système (gestionnaire d'identifiants) ne répond pas. \
         Fermez puis rouvrez la session de l'ordinateur, ou utilisez une phrase de protection.",
    )
    .with_source(error)
}

impl Keystore for OsKeystore {
    fn load(&self, account: &str) -> Result<Option<DataKey>> {
        let entry = keyring::Entry::new(KEYSTORE_SERVICE, account).map_err(keystore_error)?;
        match entry.get_secret() {
            Ok(bytes) => Ok(DataKey::from_bytes(&bytes)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(keystore_error(error)),
        }
    }

    fn save(&self, account: &str, key: &DataKey) -> Result<()> {
        let entry = keyring::Entry::new(KEYSTORE_SERVICE, account).map_err(keystore_error)?;
        entry.set_secret(key.as_bytes()).map_err(keystore_error)
    }
}

/// Stands for a machine without a keystore: the vault then uses a passphrase.
pub struct NoKeystore;

impl Keystore for NoKeystore {
    fn load(&self, _account: &str) -> Result<Option<DataKey>> {
        Err(Error::new(
            Code::KeystoreUnavailable,
            "Aucun trousseau de sécurité n'est disponible sur ce poste : les secrets sont \
             protégés par une phrase de protection.",
        ))
    }

    fn save(&self, account: &str, _key: &DataKey) -> Result<()> {
        self.load(account).map(|_| ())
    }
}

/// The vault's row in the store.
struct Record {
    vault_id: String,
    source: KeySource,
    salt: Option<Vec<u8>>,
    check_nonce: Vec<u8>,
    check_ciphertext: Vec<u8>,
}

fn record(conn: &Connection) -> Result<Option<Record>> {
    Ok(conn
        .query_row(
            "SELECT vault_id, key_source, kdf_salt, check_nonce, check_ciphertext FROM vault WHERE id = 1",
            [],
            |row| {
                let source: String = row.get(1)?;
                Ok(Record {
                    vault_id: row.get(0)?,
                    source: if source == "keystore" {
                        KeySource::Keystore
                    } else {
                        KeySource::Passphrase
                    },
                    salt: row.get(2)?,
                    check_nonce: row.get(3)?,
                    check_ciphertext: row.get(4)?,
                })
            },
        )
        .optional()?)
}

/// The key source chosen for this vault, if any.
pub fn source(conn: &Connection) -> Result<Option<KeySource>> {
    Ok(record(conn)?.map(|record| record.source))
}

pub fn status(
    conn: &Connection,
    keystore_available: bool,
    key: Option<&DataKey>,
) -> Result<VaultStatus> {
    Ok(VaultStatus {
        source: source(conn)?,
        unlocked: key.is_some(),
        keystore_available,
    })
}

fn seal(key: &DataKey, plaintext: &[u8], aad: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = key
        .cipher()
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::new(Code::Internal, "Le secret n'a pas pu être chiffré."))?;
    Ok((nonce.to_vec(), ciphertext))
}

fn open_sealed(key: &DataKey, nonce: &[u8], ciphertext: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if nonce.len() != 24 {
        return None;
    }
    key.cipher()
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

/// Opens a sealed secret and reads it as text. A secret that does not open
/// (wrong associated data, altered bytes) or is not UTF-8 is reported as
/// damaged, naming the secret by `label` so the agent knows which one to
/// type again.
fn unseal_text(
    key: &DataKey,
    nonce: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
    label: &str,
) -> Result<SecretString> {
    let damaged = || damaged_secret(label);
    let plain = open_sealed(key, nonce, ciphertext, aad)
        .map(Zeroizing::new)
        .ok_or_else(damaged)?;
    let text = String::from_utf8(plain.to_vec()).map_err(|_| damaged())?;
    Ok(SecretString::from(text))
}

/// The error for a stored secret that cannot be read back. The sentence is built so that it
/// agrees with any label (« le jeton », « la clé »), and it names no value.
fn damaged_secret(label: &str) -> Error {
    Error::new(
        Code::SecretDamaged,
        format!(
            "Le coffre ne peut plus lire {label} (donnée endommagée) : une nouvelle saisie est \
             nécessaire."
        ),
    )
}

fn check_aad(vault_id: &str) -> Vec<u8> {
    format!("guichet-qf/coffre/{vault_id}/controle").into_bytes()
}

fn secret_aad(vault_id: &str, commune_id: i64, kind: SecretKind) -> Vec<u8> {
    format!(
        "guichet-qf/coffre/{vault_id}/{commune_id}/{}",
        kind.as_str()
    )
    .into_bytes()
}

fn key_matches(key: &DataKey, record: &Record) -> bool {
    open_sealed(
        key,
        &record.check_nonce,
        &record.check_ciphertext,
        &check_aad(&record.vault_id),
    )
    .is_some_and(|plain| plain == CHECK_PLAINTEXT)
}

fn random_vault_id() -> String {
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn already_initialised() -> Error {
    Error::new(
        Code::Conflict,
        "Le coffre des secrets est déjà en place sur ce poste.",
    )
}

fn insert_record(
    conn: &Connection,
    vault_id: &str,
    source: KeySource,
    salt: Option<&[u8]>,
    key: &DataKey,
    now: Timestamp,
) -> Result<()> {
    let (nonce, ciphertext) = seal(key, CHECK_PLAINTEXT, &check_aad(vault_id))?;
    conn.execute(
        "INSERT INTO vault (id, vault_id, key_source, kdf_salt, check_nonce, check_ciphertext, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            vault_id,
            match source {
                KeySource::Keystore => "keystore",
                KeySource::Passphrase => "passphrase",
            },
            salt,
            nonce,
            ciphertext,
            now.to_string()
        ],
    )?;
    Ok(())
}

/// Creates the vault with a random data key kept in the OS keystore.
pub fn init_with_keystore(
    store: &Store,
    keystore: &dyn Keystore,
    now: Timestamp,
) -> Result<DataKey> {
    if store.read(record)?.is_some() {
        return Err(already_initialised());
    }
    let vault_id = random_vault_id();
    let key = DataKey::generate();
    keystore.save(&vault_id, &key)?;
    // Read back: some keystores accept a write they cannot serve later (locked collections).
    let reread = keystore.load(&vault_id)?;
    if reread.is_none_or(|stored| stored.as_bytes() != key.as_bytes()) {
        return Err(Error::new(
            Code::KeystoreUnavailable,
            "Le trousseau de sécurité du système n'a pas conservé la clé du coffre. Utilisez une \
             phrase de protection.",
        ));
    }
    store.write(|tx| insert_record(tx, &vault_id, KeySource::Keystore, None, &key, now))?;
    Ok(key)
}

fn derive_key(passphrase: &SecretString, salt: &[u8]) -> Result<DataKey> {
    use argon2::{Algorithm, Argon2, Params, Version};
    // OWASP's Argon2id baseline (19 MiB, 2 passes): a fraction of a second at each start, costly
    // for anyone trying passphrases against a copied database. Changing these needs a migration.
    let params = Params::new(19 * 1024, 2, 1, Some(32))
        .map_err(|_| Error::new(Code::Internal, "Paramètres de dérivation invalides."))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut key[..])
        .map_err(|_| Error::new(Code::Internal, "La clé du coffre n'a pas pu être dérivée."))?;
    Ok(DataKey(key))
}

pub fn check_passphrase_strength(passphrase: &SecretString) -> Result<()> {
    let text = passphrase.expose_secret();
    if text.trim().chars().count() < PASSPHRASE_MIN_CHARS {
        return Err(Error::validation(format!(
            "La phrase de protection doit comporter au moins {PASSPHRASE_MIN_CHARS} caractères \
             (une courte phrase facile à retenir convient, par exemple « la mairie ouvre à 9h »)."
        )));
    }
    Ok(())
}

/// Creates the vault with a data key derived from a passphrase.
pub fn init_with_passphrase(
    store: &Store,
    passphrase: &SecretString,
    now: Timestamp,
) -> Result<DataKey> {
    check_passphrase_strength(passphrase)?;
    if store.read(record)?.is_some() {
        return Err(already_initialised());
    }
    let mut salt = [0u8; 16];
    chacha20poly1305::aead::rand_core::RngCore::fill_bytes(&mut OsRng, &mut salt);
    let key = derive_key(passphrase, &salt)?;
    let vault_id = random_vault_id();
    store
        .write(|tx| insert_record(tx, &vault_id, KeySource::Passphrase, Some(&salt), &key, now))?;
    Ok(key)
}

/// Opens the vault without asking anyone: the key comes from the keystore. `Ok(None)` when the
/// vault needs its passphrase or was never set up.
pub fn open_with_keystore(store: &Store, keystore: &dyn Keystore) -> Result<Option<DataKey>> {
    let Some(record) = store.read(record)? else {
        return Ok(None);
    };
    if record.source != KeySource::Keystore {
        return Ok(None);
    }
    match keystore.load(&record.vault_id)? {
        Some(key) if key_matches(&key, &record) => Ok(Some(key)),
        _ => Err(Error::new(
            Code::KeystoreUnavailable,
            "La clé du coffre des secrets est introuvable dans le trousseau de ce poste (la base \
             vient-elle d'un autre ordinateur ?). Les secrets devront être saisis à nouveau.",
        )),
    }
}

/// Opens a passphrase vault.
pub fn unlock_with_passphrase(store: &Store, passphrase: &SecretString) -> Result<DataKey> {
    let record = store.read(record)?.ok_or_else(|| {
        Error::new(
            Code::VaultNotInitialised,
            "Le coffre des secrets n'est pas encore en place : aucune phrase n'est attendue.",
        )
    })?;
    if record.source != KeySource::Passphrase {
        return Err(Error::validation(
            "Ce coffre est protégé par le trousseau du système, pas par une phrase.",
        ));
    }
    let salt = record.salt.clone().unwrap_or_default();
    let key = derive_key(passphrase, &salt)?;
    if key_matches(&key, &record) {
        Ok(key)
    } else {
        Err(Error::new(
            Code::WrongPassphrase,
            "Phrase de protection incorrecte. Vérifiez les majuscules, les accents et les espaces.",
        ))
    }
}

/// Opens the vault, or sets it up on first use: the keystore when the OS has one, else the
/// passphrase, which is then required.
pub fn open_or_init(
    store: &Store,
    keystore: &dyn Keystore,
    passphrase: Option<&SecretString>,
    now: Timestamp,
) -> Result<DataKey> {
    match store.read(source)? {
        Some(KeySource::Keystore) => open_with_keystore(store, keystore)?.ok_or_else(locked),
        Some(KeySource::Passphrase) => match passphrase {
            Some(passphrase) => unlock_with_passphrase(store, passphrase),
            None => Err(locked()),
        },
        None => {
            if keystore.available() {
                match init_with_keystore(store, keystore, now) {
                    Ok(key) => return Ok(key),
                    Err(error) if error.code == Code::KeystoreUnavailable => {
                        tracing::warn!(error = %error.detail(), "keystore refused the vault key");
                    }
                    Err(error) => return Err(error),
                }
            }
            match passphrase {
                Some(passphrase) => init_with_passphrase(store, passphrase, now),
                None => Err(Error::new(
                    Code::VaultNotInitialised,
                    "Ce poste n'a pas de trousseau de sécurité : choisissez une phrase de \
                     protection des secrets (au moins 10 caractères).",
                )),
            }
        }
    }
}

fn locked() -> Error {
    Error::new(
        Code::VaultLocked,
        "Le coffre des secrets est verrouillé : saisissez la phrase de protection.",
    )
}

fn check_value(kind: SecretKind, value: &SecretString) -> Result<()> {
    let text = value.expose_secret();
    if text.is_empty() {
        return Err(Error::validation(format!(
            "Saisissez {} : le champ est vide.",
            kind.label()
        )));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(Error::validation(format!(
            "La valeur saisie pour {} contient des espaces ou des retours à la ligne : recopiez \
             la valeur seule, sans rien autour.",
            kind.label()
        )));
    }
    let limit = match kind {
        SecretKind::ParticulierToken => 16 * 1024,
        _ => 512,
    };
    if text.len() > limit {
        return Err(Error::validation(format!(
            "La valeur saisie pour {} est anormalement longue : vérifiez ce qui a été collé.",
            kind.label()
        )));
    }
    if kind == SecretKind::ParticulierToken && text.split('.').count() != 3 {
        return Err(Error::validation(
            "Le jeton API Particulier doit être un jeton JWT : trois blocs séparés par des \
             points (il commence en général par « eyJ »).",
        ));
    }
    Ok(())
}

fn require_record(conn: &Connection, key: &DataKey) -> Result<Record> {
    let record = record(conn)?.ok_or_else(|| {
        Error::new(
            Code::VaultNotInitialised,
            "Le coffre des secrets n'est pas encore en place.",
        )
    })?;
    if !key_matches(key, &record) {
        // The in-memory key belongs to another vault, e.g. after a backup was restored.
        return Err(locked());
    }
    Ok(record)
}

/// Seals and stores a secret, replacing any previous value.
pub fn set(
    store: &Store,
    key: &DataKey,
    commune_id: i64,
    kind: SecretKind,
    value: &SecretString,
    now: Timestamp,
) -> Result<SecretStatus> {
    check_value(kind, value)?;
    store.write(|tx| {
        crate::communes::get(tx, commune_id)?;
        let record = require_record(tx, key)?;
        let (nonce, ciphertext) = seal(
            key,
            value.expose_secret().as_bytes(),
            &secret_aad(&record.vault_id, commune_id, kind),
        )?;
        tx.execute(
            "INSERT INTO secrets (commune_id, kind, nonce, ciphertext, configured_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (commune_id, kind) DO UPDATE SET
                 nonce = excluded.nonce, ciphertext = excluded.ciphertext,
                 configured_at = excluded.configured_at",
            rusqlite::params![
                commune_id,
                kind.as_str(),
                nonce,
                ciphertext,
                now.to_string()
            ],
        )?;
        Ok(SecretStatus {
            kind,
            configured_at: Some(now),
        })
    })
}

/// The clear value of a secret, for the HTTP clients only.
pub fn get(
    store: &Store,
    key: &DataKey,
    commune_id: i64,
    kind: SecretKind,
) -> Result<Option<SecretString>> {
    store.read(|conn| {
        let record = require_record(conn, key)?;
        let row: Option<(Vec<u8>, Vec<u8>)> = conn
            .query_row(
                "SELECT nonce, ciphertext FROM secrets WHERE commune_id = ?1 AND kind = ?2",
                rusqlite::params![commune_id, kind.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((nonce, ciphertext)) = row else {
            return Ok(None);
        };
        let aad = secret_aad(&record.vault_id, commune_id, kind);
        unseal_text(key, &nonce, &ciphertext, &aad, kind.label()).map(Some)
    })
}

/// Removes a secret, after a safety backup.
pub fn delete(
    store: &Store,
    commune_id: i64,
    kind: SecretKind,
    now: Timestamp,
) -> Result<SecretStatus> {
    store.read(|conn| crate::communes::get(conn, commune_id))?;
    backup::create(store, backup::BackupKind::Safety, now)?;
    store.write(|tx| {
        delete_in(tx, commune_id, kind)?;
        Ok(SecretStatus {
            kind,
            configured_at: None,
        })
    })
}

/// Removes a secret inside the caller's transaction, without the safety backup of [`delete`]:
/// for a leaked token, which no restore must bring back. Says whether there was one.
pub(crate) fn delete_in(
    tx: &rusqlite::Transaction<'_>,
    commune_id: i64,
    kind: SecretKind,
) -> Result<bool> {
    let deleted = tx.execute(
        "DELETE FROM secrets WHERE commune_id = ?1 AND kind = ?2",
        rusqlite::params![commune_id, kind.as_str()],
    )?;
    Ok(deleted > 0)
}

/// The three secrets of a commune, configured or not.
pub fn statuses(conn: &Connection, commune_id: i64) -> Result<Vec<SecretStatus>> {
    crate::communes::get(conn, commune_id)?;
    SecretKind::ALL
        .into_iter()
        .map(|kind| {
            let configured_at: Option<String> = conn
                .query_row(
                    "SELECT configured_at FROM secrets WHERE commune_id = ?1 AND kind = ?2",
                    rusqlite::params![commune_id, kind.as_str()],
                    |row| row.get(0),
                )
                .optional()?;
            Ok(SecretStatus {
                kind,
                configured_at: configured_at.and_then(|text| text.parse().ok()),
            })
        })
        .collect()
}

/// Secrets of the whole installation rather than of one commune: the town hall has one network,
/// so its proxy's password is not a commune's. They are sealed like the communes' secrets, bound
/// to this vault and their own name, and kept in the `settings` table (one row each) so that no
/// migration is needed for a kind that has no commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallationSecret {
    ProxyPassword,
}

impl InstallationSecret {
    fn setting_key(self) -> &'static str {
        match self {
            InstallationSecret::ProxyPassword => "secret.proxy_password",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InstallationSecret::ProxyPassword => "le mot de passe du proxy",
        }
    }
}

fn installation_aad(vault_id: &str, secret: InstallationSecret) -> Vec<u8> {
    format!(
        "guichet-qf/coffre/{vault_id}/installation/{}",
        secret.setting_key()
    )
    .into_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// When an installation secret was configured, its nonce and its ciphertext.
type SealedRow = (Timestamp, Vec<u8>, Vec<u8>);

/// The stored row of an installation secret.
fn installation_row(conn: &Connection, secret: InstallationSecret) -> Result<Option<SealedRow>> {
    let Some(value) = crate::store::setting(conn, secret.setting_key())? else {
        return Ok(None);
    };
    let damaged = || damaged_secret(secret.label());
    let mut parts = value.split('|');
    let configured_at = parts
        .next()
        .and_then(|text| text.parse().ok())
        .ok_or_else(damaged)?;
    let nonce = parts.next().and_then(unhex).ok_or_else(damaged)?;
    let ciphertext = parts.next().and_then(unhex).ok_or_else(damaged)?;
    Ok(Some((configured_at, nonce, ciphertext)))
}

/// Seals and stores an installation secret, replacing any previous value. Any character is
/// accepted (a proxy password may hold spaces) but a line break or an empty value.
pub fn set_installation(
    store: &Store,
    key: &DataKey,
    secret: InstallationSecret,
    value: &SecretString,
    now: Timestamp,
) -> Result<Timestamp> {
    let text = value.expose_secret();
    if text.is_empty() {
        return Err(Error::validation(format!(
            "Saisissez {} : le champ est vide.",
            secret.label()
        )));
    }
    if text.chars().any(|c| c.is_control()) || text.len() > 512 {
        return Err(Error::validation(format!(
            "La valeur saisie pour {} contient un retour à la ligne ou est anormalement \
             longue : vérifiez ce qui a été collé.",
            secret.label()
        )));
    }
    store.write(|tx| {
        let record = require_record(tx, key)?;
        let (nonce, ciphertext) = seal(
            key,
            text.as_bytes(),
            &installation_aad(&record.vault_id, secret),
        )?;
        crate::store::set_setting(
            tx,
            secret.setting_key(),
            &format!("{now}|{}|{}", hex(&nonce), hex(&ciphertext)),
        )?;
        Ok(now)
    })
}

/// The clear value of an installation secret, for the HTTP clients only.
pub fn get_installation(
    store: &Store,
    key: &DataKey,
    secret: InstallationSecret,
) -> Result<Option<SecretString>> {
    store.read(|conn| {
        let Some((_, nonce, ciphertext)) = installation_row(conn, secret)? else {
            return Ok(None);
        };
        let record = require_record(conn, key)?;
        let aad = installation_aad(&record.vault_id, secret);
        unseal_text(key, &nonce, &ciphertext, &aad, secret.label()).map(Some)
    })
}

/// When an installation secret was configured, without opening the vault.
pub fn installation_configured_at(
    conn: &Connection,
    secret: InstallationSecret,
) -> Result<Option<Timestamp>> {
    Ok(installation_row(conn, secret)?.map(|(at, _, _)| at))
}

/// Removes an installation secret, after a safety backup.
pub fn delete_installation(
    store: &Store,
    secret: InstallationSecret,
    now: Timestamp,
) -> Result<()> {
    if store
        .read(|conn| installation_configured_at(conn, secret))?
        .is_none()
    {
        return Ok(());
    }
    backup::create(store, backup::BackupKind::Safety, now)?;
    store.write(|tx| {
        tx.execute(
            "DELETE FROM settings WHERE key = ?1",
            [secret.setting_key()],
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communes::{self, Environment, NewCommune};
    use crate::store::{open, DATABASE_FILE};
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// An in-memory stand-in for the OS keystore.
    #[derive(Default)]
    struct MemoryKeystore(Mutex<HashMap<String, Vec<u8>>>);

    impl Keystore for MemoryKeystore {
        fn load(&self, account: &str) -> Result<Option<DataKey>> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .get(account)
                .and_then(|b| DataKey::from_bytes(b)))
        }
        fn save(&self, account: &str, key: &DataKey) -> Result<()> {
            self.0
                .lock()
                .unwrap()
                .insert(account.into(), key.as_bytes().to_vec());
            Ok(())
        }
    }

    fn setup() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let commune = communes::add(
            &store,
            &NewCommune {
                siret: "21040107100019".into(),
                name: "Majastres".into(),
                cog: "04107".into(),
                environment: Environment::Production,
            },
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        (dir, store, commune.id)
    }

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl";

    #[test]
    fn keystore_round_trip() {
        let (_dir, store, commune) = setup();
        let keystore = MemoryKeystore::default();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let key = open_or_init(&store, &keystore, None, now).unwrap();
        assert_eq!(store.read(source).unwrap(), Some(KeySource::Keystore));
        set(
            &store,
            &key,
            commune,
            SecretKind::ParticulierToken,
            &TOKEN.into(),
            now,
        )
        .unwrap();

        // A later start finds the key in the keystore without asking anything.
        let reopened = open_with_keystore(&store, &keystore).unwrap().unwrap();
        let value = get(&store, &reopened, commune, SecretKind::ParticulierToken)
            .unwrap()
            .unwrap();
        assert_eq!(value.expose_secret(), TOKEN);
        assert_eq!(
            get(&store, &reopened, commune, SecretKind::HubeeClientId)
                .unwrap()
                .map(|_| ()),
            None
        );
        let statuses = store.read(|c| statuses(c, commune)).unwrap();
        assert_eq!(statuses[2].configured_at, Some(now));
        assert_eq!(statuses[0].configured_at, None);

        // Another machine's keystore does not have the key.
        let error = open_with_keystore(&store, &MemoryKeystore::default()).unwrap_err();
        assert_eq!(error.code, Code::KeystoreUnavailable);
    }

    #[test]
    fn passphrase_round_trip() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let short: SecretString = "court".into();
        assert_eq!(
            open_or_init(&store, &NoKeystore, Some(&short), now)
                .unwrap_err()
                .code,
            Code::Validation
        );
        assert_eq!(
            open_or_init(&store, &NoKeystore, None, now)
                .unwrap_err()
                .code,
            Code::VaultNotInitialised
        );
        let phrase: SecretString = "la mairie ouvre à 9h".into();
        let key = open_or_init(&store, &NoKeystore, Some(&phrase), now).unwrap();
        assert_eq!(store.read(source).unwrap(), Some(KeySource::Passphrase));
        set(
            &store,
            &key,
            commune,
            SecretKind::HubeeClientSecret,
            &"s3cr3t-hubee".into(),
            now,
        )
        .unwrap();

        assert_eq!(
            open_or_init(&store, &NoKeystore, None, now)
                .unwrap_err()
                .code,
            Code::VaultLocked
        );
        let wrong: SecretString = "la mairie ouvre à 8h".into();
        assert_eq!(
            unlock_with_passphrase(&store, &wrong).unwrap_err().code,
            Code::WrongPassphrase
        );
        let key = unlock_with_passphrase(&store, &phrase).unwrap();
        let value = get(&store, &key, commune, SecretKind::HubeeClientSecret)
            .unwrap()
            .unwrap();
        assert_eq!(value.expose_secret(), "s3cr3t-hubee");
    }

    #[test]
    fn sealed_values_are_bound_to_their_row_and_never_in_clear() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::UNIX_EPOCH;
        let key = open_or_init(&store, &MemoryKeystore::default(), None, now).unwrap();
        set(
            &store,
            &key,
            commune,
            SecretKind::HubeeClientId,
            &"client-id-visible".into(),
            now,
        )
        .unwrap();
        let raw: Vec<u8> = store
            .read(|c| Ok(c.query_row("SELECT ciphertext FROM secrets", [], |r| r.get(0))?))
            .unwrap();
        assert!(!raw.windows(17).any(|w| w == b"client-id-visible"));
        // Moving the ciphertext to another kind makes it unreadable rather than misused.
        store
            .write(|tx| {
                tx.execute("UPDATE secrets SET kind = 'hubee_client_secret'", [])?;
                Ok(())
            })
            .unwrap();
        let error = get(&store, &key, commune, SecretKind::HubeeClientSecret).unwrap_err();
        assert_eq!(error.code, Code::SecretDamaged);
        assert_eq!(
            error.message,
            "Le coffre ne peut plus lire la clé secrète Hubee (donnée endommagée) : une nouvelle \
             saisie est nécessaire."
        );
    }

    #[test]
    fn bad_values_are_refused_in_french_and_debug_is_redacted() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::UNIX_EPOCH;
        let key = open_or_init(&store, &MemoryKeystore::default(), None, now).unwrap();
        let long = "x".repeat(600);
        for (kind, value, expected) in [
            (SecretKind::HubeeClientId, "", "vide"),
            (
                SecretKind::HubeeClientSecret,
                "abc def",
                "pour la clé secrète Hubee contient des espaces",
            ),
            (
                SecretKind::HubeeClientSecret,
                long.as_str(),
                "pour la clé secrète Hubee est anormalement longue",
            ),
            (SecretKind::ParticulierToken, "pas-un-jwt", "trois blocs"),
        ] {
            let error = set(&store, &key, commune, kind, &value.into(), now).unwrap_err();
            assert!(error.message.contains(expected), "{}", error.message);
        }
        let secret: SecretString = TOKEN.into();
        assert!(!format!("{secret:?}").contains("eyJ"));
        assert!(!format!("{key:?}").contains(&format!("{:?}", key.as_bytes())));
    }

    #[test]
    fn deleting_a_secret_backs_up_first() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::UNIX_EPOCH;
        let key = open_or_init(&store, &MemoryKeystore::default(), None, now).unwrap();
        set(
            &store,
            &key,
            commune,
            SecretKind::HubeeClientId,
            &"id".into(),
            now,
        )
        .unwrap();
        let status = delete(&store, commune, SecretKind::HubeeClientId, now).unwrap();
        assert_eq!(status.configured_at, None);
        assert!(get(&store, &key, commune, SecretKind::HubeeClientId)
            .unwrap()
            .is_none());
        assert_eq!(backup::list(&store).unwrap().len(), 1);
    }

    #[test]
    fn the_proxy_password_is_sealed_for_the_installation_and_deleted_after_a_backup() {
        let (_dir, store, _commune) = setup();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let key = open_or_init(&store, &MemoryKeystore::default(), None, now).unwrap();
        let secret = InstallationSecret::ProxyPassword;
        assert_eq!(
            store
                .read(|conn| installation_configured_at(conn, secret))
                .unwrap(),
            None
        );
        let error = set_installation(&store, &key, secret, &"".into(), now).unwrap_err();
        assert!(
            error.message.contains("mot de passe du proxy"),
            "{}",
            error.message
        );
        set_installation(&store, &key, secret, &"mot de passe du proxy".into(), now).unwrap();
        assert_eq!(
            store
                .read(|conn| installation_configured_at(conn, secret))
                .unwrap(),
            Some(now)
        );
        let stored = store
            .read(|conn| crate::store::setting(conn, "secret.proxy_password"))
            .unwrap()
            .unwrap();
        assert!(!stored.contains("mot de passe"), "sealed, never in clear");
        let clear = get_installation(&store, &key, secret).unwrap().unwrap();
        assert_eq!(clear.expose_secret(), "mot de passe du proxy");
        delete_installation(&store, secret, now).unwrap();
        assert!(get_installation(&store, &key, secret).unwrap().is_none());
        assert_eq!(backup::list(&store).unwrap().len(), 1);
    }
}
