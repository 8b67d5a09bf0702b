//! The words of the three RGPD documents, as [`Document`]s (pure: everything comes in).
//!
//! The retention periods are written from the [`Retention`] the purge applies, by
//! [`retention_rows`], shared by the register and the notice: when an administrator changes a
//! limit, both documents say the new one the next time they are made.

use jiff::civil::Date;

use super::RgpdSettings;
use crate::documents::{bold, plain, Block, Document, Letterhead};
use crate::poster::french_typography;
use crate::poster::letter::date_label;
use crate::retention::{CommunePurge, PurgeReport, Retention, JOURNAL_MINIMUM_MONTHS};

/// The register entry's title.
pub const REGISTER_TITLE: &str = "Registre des activités de traitement";
/// The notice's title.
pub const NOTICE_TITLE: &str = "Vos données personnelles et le quotient familial";
/// The bordereau's title.
pub const BORDEREAU_TITLE: &str = "Bordereau d'élimination";

/// Room to write by hand on the printed page.
const BLANK: &str = "______________________________";

/// "1 mois", "24 mois" (the word does not change).
fn months(n: u32) -> String {
    format!("{n} mois")
}

/// "1 jour", "30 jours".
fn days(n: u32) -> String {
    if n > 1 {
        format!("{n} jours")
    } else {
        format!("{n} jour")
    }
}

/// One line per data class: what it is, in words a family or an auditor reads, and how long it
/// is kept, from the installation's limits. `refreshes`: the commune refreshes QFs, so a
/// family's refusal also ends the keeping of the identity (not said to other communes' families).
pub fn retention_rows(limits: &Retention, refreshes: bool) -> Vec<(String, String)> {
    let identity = match (limits.identity_days, refreshes) {
        (0, true) => "jusqu'à la fin de l'inscription, ou jusqu'à ce que la famille refuse \
                      l'actualisation"
            .to_string(),
        (0, false) => "jusqu'à la fin de l'inscription".to_string(),
        (n, true) => format!(
            "{} après la fin de l'inscription, ou après le refus de l'actualisation par la famille",
            days(n)
        ),
        (n, false) => format!("{} après la fin de l'inscription", days(n)),
    };
    let family = match limits.family_months {
        0 => "jusqu'à la fin d'inscription".to_string(),
        n => format!("{} après la fin d'inscription", months(n)),
    };
    let mut journal = months(limits.journal_months);
    let justification = limits.journal_justification.trim();
    if limits.journal_months > JOURNAL_MINIMUM_MONTHS && !justification.is_empty() {
        journal.push_str(&format!(" ({justification})"));
    }
    vec![
        (
            "Quotient familial (montant, mois, CAF ou MSA, origine)".to_string(),
            format!(
                "{} après son enregistrement ; le dernier quotient d'une famille inscrite est \
                 gardé tant qu'il sert à calculer son tarif",
                months(limits.qf_history_months)
            ),
        ),
        (
            "Identité de l'allocataire servant à interroger la CAF ou la MSA (nom, prénoms, sexe, \
             date et lieu de naissance)"
                .to_string(),
            identity,
        ),
        (
            "Dossier de la famille (membres, composition familiale, notes de la mairie)"
                .to_string(),
            family,
        ),
        (
            "Fichiers reçus du formulaire national (PDF, JSON)".to_string(),
            format!(
                "{} après la clôture du dossier",
                days(limits.dossier_files_days)
            ),
        ),
        (
            "Fichiers exportés pour la facturation".to_string(),
            days(limits.export_days),
        ),
        (
            "Journal des accès des agents (sans donnée d'identité)".to_string(),
            journal,
        ),
    ]
}

fn retention_table(limits: &Retention, refreshes: bool) -> Block {
    Block::Table {
        headers: vec!["Données".into(), "Durée de conservation".into()],
        rows: retention_rows(limits, refreshes)
            .into_iter()
            .map(|(data, period)| vec![data, french_typography(&period)])
            .collect(),
    }
}

/// "n° 2024-031 du 12 mars 2024".
fn deliberation(settings: &RgpdSettings) -> String {
    let mut text = format!("n° {}", settings.deliberation_number);
    if let Some(day) = settings.deliberation_date {
        text.push_str(&format!(" du {}", date_label(day)));
    }
    text
}

/// The DPO's contact lines: e-mail, then address.
fn dpo_contact(settings: &RgpdSettings) -> String {
    [settings.dpo_email.as_str(), settings.dpo_address.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn services_lower(settings: &RgpdSettings) -> String {
    let services = settings.services.trim();
    let mut chars = services.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn heading(text: &str) -> Block {
    Block::Heading(text.to_string())
}

fn paragraph(text: &str) -> Block {
    Block::Paragraph(vec![plain(text)])
}

fn bullets(items: &[&str]) -> Block {
    Block::Bullets(items.iter().map(|item| french_typography(item)).collect())
}

/// The entry of the commune's register of processing activities (RGPD art. 30) for the social
/// tariffs on the QF, from its settings and the installation's retention limits, updated
/// `today`. `refreshes`: the commune refreshes QFs itself on API Particulier.
pub fn register_entry(
    letterhead: &Letterhead,
    settings: &RgpdSettings,
    limits: &Retention,
    refreshes: bool,
    today: Date,
) -> Document {
    let commune = letterhead.commune_name.trim();
    let mut document = Document::new(REGISTER_TITLE, letterhead.clone());
    document.subtitle = Some(format!(
        "Fiche : tarification sociale selon le quotient familial — mise à jour le {}",
        date_label(today)
    ));
    let blocks = &mut document.blocks;

    blocks.push(heading("Responsable du traitement"));
    blocks.push(Block::Fields(vec![
        (
            "Responsable".into(),
            format!(
                "Commune de {commune}, représentée par son maire, {}",
                settings.mayor_name
            ),
        ),
        ("Adresse".into(), settings.postal_address.clone()),
        ("SIRET".into(), letterhead.siret.clone()),
        (
            "Demandes des personnes".into(),
            settings.requests_email.clone(),
        ),
    ]));
    blocks.push(heading("Délégué à la protection des données"));
    blocks.push(Block::Fields(vec![
        ("Nom".into(), settings.dpo_name.clone()),
        ("Contact".into(), dpo_contact(settings)),
    ]));

    blocks.push(heading("Finalité"));
    let mut purpose = format!(
        "Tarification sociale de : {} selon la délibération {}. La mairie calcule le tarif \
         de chaque famille d'après son quotient familial (QF) CAF ou MSA.",
        services_lower(settings),
        deliberation(settings)
    );
    if refreshes {
        purpose.push_str(
            " Elle actualise ce quotient auprès de la CAF ou de la MSA par API Particulier, \
             sauf pour les familles qui l'ont refusé.",
        );
    }
    blocks.push(paragraph(&purpose));

    blocks.push(heading("Base légale"));
    blocks.push(Block::Bullets(vec![
        french_typography(
            "Mission d'intérêt public (article 6-1-e du RGPD) : la tarification sociale des \
             services publics locaux.",
        ),
        french_typography(
            "Code des relations entre le public et l'administration, article L114-8 : échange \
             de données entre administrations pour ne plus demander de justificatif aux \
             familles.",
        ),
        french_typography(&format!(
            "Délibération {} fixant les tarifs selon le quotient familial.",
            deliberation(settings)
        )),
    ]));

    blocks.push(heading("Personnes concernées"));
    blocks.push(bullets(&[
        "L'allocataire (parent ou responsable du foyer).",
        "Son conjoint ou co-allocataire.",
        "Les enfants du foyer.",
    ]));

    blocks.push(heading("Catégories de données"));
    blocks.push(bullets(&[
        "Identité servant à interroger la CAF ou la MSA : nom, prénoms, sexe, date et lieu de \
         naissance de l'allocataire.",
        "Quotient familial, avec son mois de référence et l'organisme qui l'a calculé (CAF ou \
         MSA).",
        "Composition familiale : allocataires et enfants (noms, prénoms, dates de naissance).",
        "Aucun numéro de sécurité sociale (NIR) n'est collecté ; aucune donnée de santé.",
    ]));

    blocks.push(heading("Origine des données"));
    blocks.push(bullets(&[
        "CAF et MSA, par API Particulier (service de l'État opéré par la DINUM), au guichet ou \
         lors de l'actualisation.",
        "Le formulaire national « quotient-familial.numerique.gouv.fr » rempli par la famille, \
         transmis par Hubee.",
        "Les attestations papier de la CAF ou de la MSA remises par la famille.",
    ]));

    blocks.push(heading("Destinataires"));
    let mut recipients: Vec<String> = settings
        .recipients
        .iter()
        .map(|recipient| french_typography(&format!("{recipient}.")))
        .collect();
    recipients.push(french_typography(
        "Aucun éditeur de logiciel ni prestataire ne reçoit les données : elles restent sur \
         les postes de la mairie.",
    ));
    blocks.push(Block::Bullets(recipients));

    blocks.push(heading("Durées de conservation"));
    blocks.push(retention_table(limits, refreshes));
    blocks.push(paragraph(
        "Les données arrivées au terme de leur durée sont supprimées par une purge, après une \
         sauvegarde de sécurité ; chaque purge fait l'objet d'un bordereau d'élimination.",
    ));

    blocks.push(heading("Mesures de sécurité"));
    blocks.push(bullets(&[
        "Accès réservé aux agents nommés, chacun avec son code personnel ; verrouillage \
         automatique après une période d'inactivité.",
        "Secrets d'accès (jetons API Particulier, identifiants Hubee) chiffrés avec une clé \
         gardée dans le coffre du système d'exploitation.",
        "Journal des accès en ajout seul, chaîné par empreintes pour détecter toute \
         modification, conservé 36 mois au moins.",
        "Sauvegardes quotidiennes de la base, et une sauvegarde de sécurité avant toute \
         suppression.",
        "Aucune donnée hébergée hors de l'Union européenne ; aucun éditeur ne reçoit les \
         données.",
    ]));

    blocks.push(heading("Transferts hors de l'Union européenne"));
    blocks.push(paragraph("Aucun."));

    document.footer = Some(french_typography(&format!(
        "Fiche préparée par Guichet QF d'après les paramètres de la commune de {commune}, le {}. \
         À faire valider par le délégué à la protection des données.",
        date_label(today)
    )));
    document
}

/// The notice for families (RGPD art. 13–14, API Particulier's CGU), for the counter, the
/// website and the enrolment form. Without `refreshes`, nothing about the automatic refresh.
pub fn information_notice(
    letterhead: &Letterhead,
    settings: &RgpdSettings,
    limits: &Retention,
    refreshes: bool,
    today: Date,
) -> Document {
    let commune = letterhead.commune_name.trim();
    let email = settings.requests_email.as_str();
    let address = settings.postal_address.replace('\n', ", ");
    let mut document = Document::new(NOTICE_TITLE, letterhead.clone());
    document.subtitle = Some(format!(
        "Note d'information des familles — tarifs de : {}",
        services_lower(settings)
    ));
    let blocks = &mut document.blocks;

    blocks.push(heading("Qui utilise vos données ?"));
    blocks.push(paragraph(&format!(
        "La mairie de {commune}, représentée par son maire, {}. Adresse : {address}.",
        settings.mayor_name
    )));

    blocks.push(heading("Pourquoi ?"));
    blocks.push(paragraph(&format!(
        "Pour calculer le tarif de vos enfants ({}) d'après votre quotient familial, comme le \
         prévoit la délibération {} du conseil municipal. C'est une mission d'intérêt public de \
         la commune.",
        services_lower(settings),
        deliberation(settings)
    )));

    blocks.push(heading("Quelles données, et d'où viennent-elles ?"));
    blocks.push(paragraph(
        "Votre quotient familial (avec son mois et l'organisme, CAF ou MSA) et la composition \
         de votre foyer (allocataires et enfants). La mairie les obtient de la CAF ou de la MSA :",
    ));
    blocks.push(bullets(&[
        "soit par le formulaire national « quotient-familial.numerique.gouv.fr », que vous \
         remplissez avec FranceConnect ;",
        "soit au guichet de la mairie, par API Particulier, un service de l'État (DINUM), à \
         partir de votre identité ;",
        "soit d'après l'attestation de la CAF ou de la MSA que vous apportez.",
    ]));
    blocks.push(paragraph(
        "Votre numéro de sécurité sociale n'est jamais demandé. Si vous ne souhaitez pas que la \
         mairie interroge la CAF ou la MSA, apportez votre attestation : aucune famille n'est \
         refusée pour cette raison.",
    ));

    blocks.push(heading("Qui les voit ?"));
    blocks.push(Block::Bullets(
        settings
            .recipients
            .iter()
            .map(|recipient| french_typography(&format!("{recipient} ;")))
            .chain(std::iter::once(french_typography(
                "personne d'autre : vos données ne sont ni vendues ni transmises à une \
                 entreprise, et restent en France.",
            )))
            .collect(),
    ));

    blocks.push(heading("Combien de temps ?"));
    blocks.push(retention_table(limits, refreshes));

    if refreshes {
        blocks.push(heading(
            "Actualisation automatique de votre quotient familial",
        ));
        blocks.push(paragraph(
            "Pour que votre tarif suive votre situation, la mairie actualise votre quotient \
             familial auprès de la CAF ou de la MSA, par API Particulier, à partir de votre \
             identité. Vous n'avez plus à apporter d'attestation.",
        ));
        blocks.push(Block::Paragraph(vec![
            bold("Vous pouvez refuser cette actualisation à tout moment, "),
            plain(&format!(
                "sans justification : par e-mail à {email}, par courrier à la mairie ({address}) \
                 ou au guichet. Il faudra alors nous remettre vous-même votre attestation CAF ou \
                 MSA."
            )),
        ]));
    }

    blocks.push(heading("Vos droits"));
    blocks.push(paragraph(&format!(
        "Vous pouvez accéder à vos données, les faire corriger, et vous opposer à leur \
         utilisation pour des raisons tenant à votre situation. Écrivez à {email}, à la mairie \
         ({address}), ou adressez-vous au guichet."
    )));
    let mut dpo = format!(
        "Délégué à la protection des données : {}",
        settings.dpo_name
    );
    for contact in [&settings.dpo_email, &settings.dpo_address] {
        if !contact.is_empty() {
            dpo.push_str(&format!(", {}", contact.replace('\n', ", ")));
        }
    }
    dpo.push('.');
    blocks.push(paragraph(&dpo));
    blocks.push(paragraph(
        "Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une \
         réclamation à la CNIL (www.cnil.fr, 3 place de Fontenoy, TSA 80715, 75334 Paris \
         Cedex 07).",
    ));

    document.footer = Some(french_typography(&format!(
        "Mairie de {commune} — note mise à jour le {}.",
        date_label(today)
    )));
    document
}

/// The limits in short, for the bordereau (one line each, so that it fits on one page).
fn limits_fields(limits: &Retention) -> Vec<(String, String)> {
    let mut journal = months(limits.journal_months);
    let justification = limits.journal_justification.trim();
    if limits.journal_months > JOURNAL_MINIMUM_MONTHS && !justification.is_empty() {
        journal.push_str(&format!(" ({justification})"));
    }
    vec![
        (
            "Quotients familiaux".into(),
            format!(
                "{} après l'enregistrement",
                months(limits.qf_history_months)
            ),
        ),
        (
            "Identités de référence".into(),
            format!(
                "{} après la fin d'inscription ou le refus de l'actualisation",
                days(limits.identity_days)
            ),
        ),
        (
            "Dossiers famille".into(),
            format!(
                "{} après la fin d'inscription",
                months(limits.family_months)
            ),
        ),
        (
            "Fichiers des dossiers".into(),
            format!(
                "{} après la clôture du dossier",
                days(limits.dossier_files_days)
            ),
        ),
        ("Fichiers d'export".into(), days(limits.export_days)),
        ("Journal des accès".into(), journal),
    ]
}

/// "du 3 janvier 2024 au 20 octobre 2026", or "sans objet".
fn range(from: Option<Date>, to: Option<Date>) -> String {
    match (from, to) {
        (Some(from), Some(to)) if from == to => format!("le {}", date_label(from)),
        (Some(from), Some(to)) => format!("du {} au {}", date_label(from), date_label(to)),
        _ => "sans objet".to_string(),
    }
}

/// The bordereau d'élimination of a stored purge for one commune: who produced the data, when
/// and by whom it was eliminated, the limits applied, what was removed (counts and dates,
/// never a name), the backup made before, and the blocks the mayor and the archives
/// départementales sign. `signer`: the mayor's name when the commune gave it.
pub fn bordereau(
    letterhead: &Letterhead,
    report: &PurgeReport,
    commune: &CommunePurge,
    signer: Option<&str>,
    tz: &jiff::tz::TimeZone,
) -> Document {
    let name = letterhead.commune_name.trim();
    let at = report.at.to_zoned(tz.clone());
    let day = at.date();
    let number = report.id.map(|id| id.to_string()).unwrap_or_default();
    let mut document = Document::new(BORDEREAU_TITLE, letterhead.clone());
    document.subtitle = Some(format!(
        "Purge n° {number} du {} — données de la tarification sociale selon le quotient familial",
        date_label(day)
    ));
    let blocks = &mut document.blocks;

    blocks.push(heading("Service producteur"));
    blocks.push(Block::Fields(vec![
        (
            "Service producteur".into(),
            format!("Mairie de {name} (SIRET {})", letterhead.siret),
        ),
        (
            "Date de l'élimination".into(),
            format!("{} à {}", date_label(day), at.strftime("%H:%M")),
        ),
        ("Réalisée par".into(), report.agent.clone()),
        ("Application".into(), "Guichet QF".into()),
        (
            "Sauvegarde faite avant".into(),
            report
                .backup_name
                .clone()
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "aucune".into()),
        ),
    ]));

    blocks.push(heading("Durées de conservation appliquées"));
    blocks.push(Block::Fields(limits_fields(&report.limits)));

    blocks.push(heading("Données éliminées"));
    let mut rows = vec![
        ("Dossiers famille complets", commune.families),
        ("Identités de référence effacées", commune.identities),
        ("Entrées de l'historique des QF", commune.qf_entries),
        ("Actualisations terminées", commune.refresh_runs),
        ("Dossiers reçus du formulaire national", commune.dossiers),
        (
            "Fichiers de dossiers clos (PDF, JSON)",
            commune.dossier_files,
        ),
    ]
    .into_iter()
    .map(|(label, count)| vec![label.to_string(), count.to_string()])
    .collect::<Vec<_>>();
    rows.push(vec![
        format!(
            "Lignes du journal des accès antérieures au {} (toute l'installation)",
            date_label(report.journal_before.to_zoned(tz.clone()).date())
        ),
        report.journal_rows.to_string(),
    ]);
    rows.push(vec![
        "Fichiers d'export supprimés (toute l'installation)".into(),
        report.export_files.len().to_string(),
    ]);
    blocks.push(Block::Table {
        headers: vec!["Catégorie".into(), "Nombre".into()],
        rows,
    });
    blocks.push(Block::Fields(vec![(
        "Dates extrêmes".into(),
        range(commune.removed_from, commune.removed_to),
    )]));
    if commune.kept_referenced > 0 {
        blocks.push(paragraph(&format!(
            "{} dossier(s) d'une famille supprimée ont été conservés, car l'historique d'une \
             autre famille les cite encore ; ils seront éliminés par une purge suivante.",
            commune.kept_referenced
        )));
    }
    blocks.push(paragraph(
        "Élimination par suppression définitive dans la base de l'application. Ce bordereau ne \
         contient que des nombres et des dates, aucune donnée nominative.",
    ));

    blocks.push(Block::Signature {
        place: name.to_string(),
        date: date_label(day),
        signer: match signer {
            Some(mayor) => format!("Le maire, {mayor}"),
            None => "Le maire".to_string(),
        },
    });
    blocks.push(heading("Visa du directeur des archives départementales"));
    blocks.push(Block::Fields(vec![
        ("Visa n°".into(), BLANK.into()),
        ("Date".into(), BLANK.into()),
        ("Signature".into(), BLANK.into()),
    ]));
    document.footer = Some(french_typography(&format!(
        "Bordereau établi par Guichet QF d'après la purge n° {number} enregistrée sur ce poste. \
         À conserver par la mairie avec le visa des archives départementales."
    )));
    document
}
