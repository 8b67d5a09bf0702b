//! The "Attestation de prise en compte du quotient familial" (issue 8): one A4 page a family
//! takes home, saying which QF the commune holds, where it came from, and the bracket and tariff
//! it gives for each service.
//!
//! Why: the national form and API Particulier leave the family with nothing on paper, while the
//! family must be able to check what the commune priced it with and ask for a correction. The
//! page therefore names the source of the QF the way the family lived it (the national form,
//! the counter, the refresh, the paper it brought), the rights it has over it, and the agent by
//! initials only. It carries the family's code and the allocataires' names, never a birth date
//! or a birth place (minimisation).
//!
//! [`attestation_document`] is pure: the family, its tariffs, the commune, the agent and the day
//! come in. [`print_attestation`] reads them, then writes the PDF and its `Impression` journal
//! row (the family's code as reference, never a name) in one transaction, like every print.

use std::path::Path;

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::Connection;

use super::view::{source_label, view, FamilyView, QfRow};
use super::{Role, Source};
use crate::documents::{self, bold, plain, Block, Document, Letterhead};
use crate::error::{Error, Result};
use crate::journal;
use crate::poster::letter::{date_label, month_label};
use crate::poster::studio::Target;
use crate::poster::studio::{
    file_path, make_about, with_extension, written_exactly, Destination, Made, Printed,
};
use crate::poster::{french_typography, settings, Logo};
use crate::store::Store;
use crate::tariffs::euros;
use crate::tariffs::store::{family_tariffs, FamilyTariff};

/// The document's title, in the PDF's metadata too.
pub const TITLE: &str = "Attestation de prise en compte du quotient familial";

/// What the journal row says was printed.
pub const JOURNAL_WHAT: &str = "attestation de QF";

/// "M.-C. D." for "Marie-Claire Dupont": each word's initial, a hyphenated first name's parts
/// kept together; particles written in lower case ("de", "d'") are left out.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter(|word| word.chars().next().is_some_and(char::is_uppercase))
        .map(|word| {
            word.split('-')
                .filter_map(|part| part.chars().next())
                .map(|initial| format!("{}.", initial.to_uppercase()))
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The organisation behind a provider code: the CNAF's QF is the CAF's for the family.
fn provider_label(fournisseur: &str) -> &str {
    match fournisseur.trim() {
        "CNAF" | "CAF" => "CAF",
        "MSA" => "MSA",
        other => other,
    }
}

/// Where the QF came from, in the words a family understands.
pub fn source_mention(qf: &QfRow) -> String {
    let provider = provider_label(&qf.fournisseur);
    let text = match &qf.source {
        Source::DossierHubee { .. } => format!(
            "Quotient familial transmis par votre foyer au moyen du formulaire national « \
             quotient-familial.numerique.gouv.fr » (service de l'État), qui l'a obtenu auprès \
             de la {provider}."
        ),
        Source::Guichet => format!(
            "Quotient familial obtenu auprès de la {provider} par API Particulier (DINUM), \
             au guichet de la mairie."
        ),
        Source::Actualisation => format!(
            "Quotient familial obtenu auprès de la {provider} par API Particulier (DINUM), lors \
             de l'actualisation automatique des quotients familiaux par la commune."
        ),
        Source::AttestationPapier { document } => format!(
            "Quotient familial relevé par la mairie sur une attestation papier de la {provider} \
             ({}) présentée par votre foyer.",
            document.label()
        ),
    };
    french_typography(&text)
}

/// The rights line: correcting the data, and refusing the automatic refresh.
fn rights(commune: &str) -> String {
    french_typography(&format!(
        "vous pouvez demander à la mairie de {commune} la rectification de ces informations, et \
         vous opposer à l'actualisation automatique de votre quotient familial auprès de la CAF \
         ou de la MSA, à tout moment et sans justification."
    ))
}

/// The allocataires as the attestation names them ("Camille DUPONT"), the pivot first.
fn allocataires(family: &FamilyView) -> String {
    let mut members: Vec<_> = family
        .members
        .iter()
        .filter(|member| member.role == Role::Allocataire)
        .collect();
    members.sort_by_key(|member| !member.pivot);
    members
        .iter()
        .map(|member| {
            let name = member
                .nom_usage
                .as_deref()
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .unwrap_or(member.nom_naissance.trim());
            format!("{} {}", member.prenoms.trim(), name.to_uppercase())
                .trim()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tariff as printed: "3,30 € par repas".
fn tariff_label(tariff: &FamilyTariff) -> String {
    let unit = tariff.priced.unit.trim();
    let price = euros(tariff.priced.price_cents);
    if unit.is_empty() {
        price
    } else {
        format!("{price} par {unit}")
    }
}

/// Who issues the attestation and signs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Issuer {
    pub letterhead: Letterhead,
    /// The agent's full name, printed as initials; `None` signs in the commune's name only (a
    /// command line run without an agent).
    pub agent: Option<String>,
}

/// The attestation of `family` with its `tariffs` on `today`. A family with no QF at all has
/// nothing to attest: a validation error, and nothing is printed.
pub fn attestation_document(
    family: &FamilyView,
    tariffs: &[FamilyTariff],
    issuer: &Issuer,
    today: Date,
    now: Timestamp,
) -> Result<Document> {
    let Some(qf) = family.history.first() else {
        return Err(Error::validation(
            "Cette famille n'a encore aucun quotient familial : il n'y a rien à attester. \
             Enregistrez d'abord son QF (guichet, dossier reçu ou attestation papier).",
        ));
    };
    let commune = issuer.letterhead.commune_name.trim();
    let date = date_label(today);
    let mut document = Document::new(TITLE, issuer.letterhead.clone());
    document.subtitle = Some(format!("Délivrée le {date}"));
    document.made_at = Some(now);
    let value = match qf.valeur {
        Some(valeur) => valeur.to_string(),
        None => "ressources non connues".to_string(),
    };
    let mut family_fields = vec![("Code famille".to_string(), family.external_id.clone())];
    let names = allocataires(family);
    if !names.is_empty() {
        family_fields.push(("Allocataire(s)".to_string(), names));
    }
    document.blocks.push(Block::Paragraph(vec![plain(&format!(
        "La commune de {commune} atteste avoir pris en compte, pour le calcul des tarifs de ses \
         services, le quotient familial suivant."
    ))]));
    document.blocks.push(Block::Heading("Famille".into()));
    document.blocks.push(Block::Fields(family_fields));
    document
        .blocks
        .push(Block::Heading("Quotient familial".into()));
    document.blocks.push(Block::Fields(vec![
        ("Quotient familial".into(), value),
        ("Mois de référence".into(), month_label(qf.annee, qf.mois)),
        ("Organisme".into(), provider_label(&qf.fournisseur).into()),
        ("Source".into(), source_label(&qf.source)),
    ]));
    document
        .blocks
        .push(Block::Heading("Tarifs appliqués".into()));
    if tariffs.is_empty() {
        document.blocks.push(Block::paragraph(&format!(
            "Aucune grille tarifaire de la commune n'est en vigueur le {date}."
        )));
    } else {
        document.blocks.push(Block::Table {
            headers: vec!["Service".into(), "Tranche".into(), "Tarif".into()],
            rows: tariffs
                .iter()
                .map(|tariff| {
                    vec![
                        tariff.service.clone(),
                        tariff.priced.label.clone(),
                        tariff_label(tariff),
                    ]
                })
                .collect(),
        });
    }
    document
        .blocks
        .push(Block::Heading("Origine des données".into()));
    document.blocks.push(Block::paragraph(&source_mention(qf)));
    let mut rights_runs = vec![bold("Vos droits : "), plain(&rights(commune))];
    if family.opt_out.is_some() {
        rights_runs.push(plain(
            " Votre foyer a demandé l'arrêt de l'actualisation automatique : elle n'est plus faite.",
        ));
    }
    document.blocks.push(Block::Paragraph(rights_runs));
    let signer = match issuer.agent.as_deref().map(initials) {
        Some(initials) if !initials.is_empty() => {
            format!("Pour la mairie, l'agent\u{a0}: {initials}")
        }
        _ => format!("La mairie de {commune}"),
    };
    document.blocks.push(Block::Signature {
        place: commune.to_string(),
        date,
        signer,
    });
    document.footer = Some(french_typography(&format!(
        "Attestation établie par la mairie de {commune} d'après son fichier des familles. Elle \
         ne remplace pas l'attestation de quotient familial délivrée par la CAF ou la MSA."
    )));
    Ok(document)
}

/// Everything the attestation of `family_id` needs, read at once.
fn read(
    conn: &Connection,
    family_id: i64,
    agent: Option<&str>,
    today: Date,
) -> Result<(Target, FamilyView, Vec<FamilyTariff>, Issuer)> {
    let family = view(conn, family_id)?;
    let commune = crate::communes::get(conn, family.commune_id)?;
    let tariffs = family_tariffs(conn, family_id, today)?;
    let logo = settings::logo(conn, commune.id)?
        .map(|logo| Logo::from_bytes(&logo.bytes))
        .transpose()?;
    let issuer = Issuer {
        letterhead: Letterhead {
            commune_name: commune.name.clone(),
            siret: commune.siret.clone(),
            logo,
        },
        agent: agent.map(str::to_string),
    };
    Ok((Target::of(&commune), family, tariffs, issuer))
}

/// Writes the attestation of `family_id` at `destination` and journals it for `agent` (`None`:
/// the command line without an agent's name). `None` when the agent cancelled the choice of a
/// file: nothing written nor journaled.
pub fn print_attestation(
    store: &Store,
    family_id: i64,
    destination: Destination<'_>,
    agent: Option<&str>,
    now: Timestamp,
    today: Date,
) -> Result<Option<Printed>> {
    let (target, family, tariffs, issuer) =
        store.read(|conn| read(conn, family_id, agent, today))?;
    let document = attestation_document(&family, &tariffs, &issuer, today, now)?;
    let pdf = documents::pdf(&document)?;
    let made = Made::Attestation {
        code: family.external_id.clone(),
    };
    let path = match destination {
        Destination::NewFileIn(dir) => file_path(dir, &target, made),
        Destination::Chosen {
            suggested_in,
            choose,
        } => match choose(&file_path(suggested_in, &target, made)) {
            Some(path) => with_extension(path, "pdf"),
            None => return Ok(None),
        },
    };
    let reference = format!("famille {}", family.external_id);
    let journal_agent = agent.unwrap_or(journal::AGENT_COMMAND_LINE);
    make_about(
        Some(store),
        &target,
        journal_agent,
        (JOURNAL_WHAT.to_string(), Some(&reference)),
        &path,
        &pdf,
        now,
    )
    .map(Some)
}

/// Writes the attestation of `family_id` to `path` (the command line), journaled.
pub fn print_attestation_to(
    store: &Store,
    family_id: i64,
    path: &Path,
    agent: Option<&str>,
    now: Timestamp,
    today: Date,
) -> Result<Printed> {
    written_exactly(print_attestation(
        store,
        family_id,
        Destination::exactly(path),
        agent,
        now,
        today,
    )?)
}

#[cfg(test)]
#[path = "attestation_tests.rs"]
mod tests;
