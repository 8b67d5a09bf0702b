//! "Jeton compromis": what the API Particulier CGU ask when a token may have leaked (§2.1.3,
//! `users-and-peers.md` R14): stop using it at once, have it revoked, tell the support.
//!
//! Guichet QF cannot revoke a token itself (only API Particulier can), so the procedure is:
//! the token leaves the vault, what the guardian knew of it is forgotten and the journal
//! records who declared it, all in one transaction; then the agent gets an e-mail to the support
//! ready to send, naming the commune and its habilitation but never the token. The vault's
//! usual safety backup is skipped on purpose: restoring a backup must not bring a leaked token
//! back.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Serialize;
use ts_rs::TS;

use crate::communes::Commune;
use crate::error::{Code, Error, Result};
use crate::journal::{self, Action, Entry};
use crate::store::Store;
use crate::vault::{self, SecretKind};

/// API Particulier's support, to whom the CGU ask to report a leaked token.
pub const SUPPORT_ADDRESS: &str = "support@particulier.api.gouv.fr";

/// The e-mail to send to the support, ready for the mail program and shown in the window in
/// case none opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CompromiseReport {
    pub address: String,
    pub subject: String,
    pub body: String,
    /// `mailto:` with the subject and body, percent-encoded.
    pub mailto: String,
    /// Whether a mail program took it; set by the caller that tried (the window). When not,
    /// the window shows the address and the text to copy.
    pub mail_opened: bool,
}

/// Removes `commune`'s token, journals the declaration by `agent`, and gives back the e-mail to
/// send. `time_zone` dates the e-mail in the town hall's local time.
pub fn declare(
    store: &Store,
    commune: &Commune,
    agent: &str,
    time_zone: &TimeZone,
    now: Timestamp,
) -> Result<CompromiseReport> {
    let known = store.write(|tx| {
        let known = super::token::recorded(tx, commune.id)?.map(|(info, _)| info);
        if !vault::delete_in(tx, commune.id, SecretKind::ParticulierToken)? {
            return Err(Error::new(
                Code::NotFound,
                format!(
                    "Aucun jeton API Particulier n'est enregistré pour {} : il n'y a rien à \
                     retirer. Si un jeton a pu être divulgué, écrivez tout de même à \
                     {SUPPORT_ADDRESS} pour qu'il soit révoqué.",
                    commune.name
                ),
            ));
        }
        super::token::forget(tx, commune.id)?;
        let mut entry = Entry::new(now, agent, Action::JetonCompromis);
        entry.commune_id = Some(commune.id);
        entry.detail = Some(format!(
            "jeton retiré du poste ; signalement à {SUPPORT_ADDRESS}"
        ));
        journal::append(tx, &entry)?;
        Ok(known)
    })?;
    let when = now.to_zoned(time_zone.clone());
    let habilitation = known
        .as_ref()
        .and_then(|info| info.datapass_url.clone())
        .unwrap_or_else(|| "(à compléter : numéro de l'habilitation DataPass)".to_string());
    let expiry = known
        .as_ref()
        .and_then(|info| info.expires_at)
        .map(|at| {
            at.to_zoned(time_zone.clone())
                .strftime("%d/%m/%Y")
                .to_string()
        })
        .unwrap_or_else(|| "inconnue".to_string());
    let subject = format!(
        "Jeton API Particulier compromis — {} (SIRET {})",
        commune.name, commune.siret
    );
    let body = format!(
        "Bonjour,\n\n\
         Le jeton API Particulier de {name} (SIRET {siret}) a pu être divulgué. Conformément aux \
         conditions générales d'utilisation, nous vous le signalons et vous demandons de le \
         révoquer. Nous l'avons retiré de notre poste le {day} à {time} et ne l'utilisons plus.\n\n\
         Habilitation DataPass : {habilitation}\n\
         Date d'expiration du jeton : {expiry}\n\
         Circonstances : (à compléter)\n\n\
         Merci de nous indiquer comment obtenir un nouveau jeton.\n\n\
         Cordialement,\n\
         {agent}\n\
         {name}\n",
        name = commune.name,
        siret = commune.siret,
        day = when.strftime("%d/%m/%Y"),
        time = when.strftime("%H:%M"),
    );
    let mailto = format!(
        "mailto:{SUPPORT_ADDRESS}?subject={}&body={}",
        utf8_percent_encode(&subject, NON_ALPHANUMERIC),
        utf8_percent_encode(&body, NON_ALPHANUMERIC)
    );
    Ok(CompromiseReport {
        address: SUPPORT_ADDRESS.to_string(),
        subject,
        body,
        mailto,
        mail_opened: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::particulier::token::{self, ExpirySource, TokenInfo};
    use crate::vault::SecretString;

    #[test]
    fn the_token_leaves_the_vault_the_journal_says_who_and_the_mail_names_no_secret() {
        let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
        let commune = store
            .read(|conn| crate::communes::get(conn, commune_id))
            .unwrap();
        let now: Timestamp = "2026-11-23T09:30:00Z".parse().unwrap();
        let passphrase = SecretString::from("cheval agrafe batterie correcte".to_string());
        let key = vault::init_with_passphrase(&store, &passphrase, now).unwrap();
        let secret = "eyJhbGciOiJIUzI1NiJ9.jeton-divulgue.signature";
        vault::set(
            &store,
            &key,
            commune.id,
            SecretKind::ParticulierToken,
            &SecretString::from(secret.to_string()),
            now,
        )
        .unwrap();
        store
            .write(|tx| {
                token::record(
                    tx,
                    commune.id,
                    &TokenInfo {
                        expires_at: Some("2027-03-01T00:00:00Z".parse().unwrap()),
                        source: ExpirySource::Serveur,
                        scopes: vec![],
                        datapass_url: Some("https://datapass.api.gouv.fr/demandes/4242".into()),
                    },
                    now,
                )
            })
            .unwrap();

        let paris = TimeZone::get("Europe/Paris").unwrap();
        let report = declare(&store, &commune, "Claire Martin", &paris, now).unwrap();

        assert!(
            vault::get(&store, &key, commune.id, SecretKind::ParticulierToken)
                .unwrap()
                .is_none()
        );
        assert!(store
            .read(|conn| token::recorded(conn, commune.id))
            .unwrap()
            .is_none());
        let rows = store
            .read(|conn| journal::list(conn, &journal::Filter::default(), &TimeZone::UTC, 100))
            .unwrap();
        let row = rows
            .iter()
            .find(|row| row.action == Action::JetonCompromis)
            .expect("the declaration is journaled");
        assert_eq!(row.agent, "Claire Martin");
        assert_eq!(row.commune_id, Some(commune.id));

        assert_eq!(report.address, SUPPORT_ADDRESS);
        assert!(report.subject.contains(&commune.siret));
        assert!(
            report.body.contains("23/11/2026 à 10:30"),
            "{}",
            report.body
        );
        assert!(report.body.contains("demandes/4242"));
        assert!(report.body.contains("01/03/2027"));
        assert!(report.body.contains("Claire Martin"));
        assert!(report
            .mailto
            .starts_with("mailto:support@particulier.api.gouv.fr?subject=Jeton%20API"));
        assert!(!report.mailto.contains(' ') && !report.mailto.contains('\n'));
        for text in [&report.subject, &report.body, &report.mailto] {
            assert!(!text.contains("jeton-divulgue"), "the token never appears");
        }

        // Nothing left to declare: a clear error, and no second journal row.
        let again = declare(&store, &commune, "Claire Martin", &paris, now).unwrap_err();
        assert_eq!(again.code, Code::NotFound);
        assert!(again.message.contains(SUPPORT_ADDRESS));
        let after = store
            .read(|conn| journal::list(conn, &journal::Filter::default(), &TimeZone::UTC, 100))
            .unwrap();
        assert_eq!(after.len(), rows.len());
    }
}
