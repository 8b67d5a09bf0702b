//! The command line beside the window: same binary, same data, same domain functions.
//!
//! Administrators and scheduled tasks use it (register a commune, give a secret, back up). Its
//! contract: French help and messages, secrets and PINs read from standard input (never from an
//! argument, which other users of the PC could see in the process list), `--json` for scripts,
//! exit code 0 on success, 1 when the action failed, 2 when the command line itself is wrong.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use jiff::Timestamp;
use rand::SeedableRng;
use serde::Serialize;

use crate::agents::{self, NewAgent, Role};
use crate::communes::{self, Environment, NewCommune};
use crate::error::{Code, Error, Result};
use crate::journal;
use crate::launch::Launch;
use crate::poster;
use crate::store::{self, backup, Store};
use crate::vault::{self, SecretKind, SecretString};

#[derive(Parser)]
#[command(
    name = "guichet-qf",
    about = "Guichet QF — le quotient familial des familles, au guichet de la mairie.\n\
             Sans argument, ouvre la fenêtre de l'application."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Gérer les communes servies par ce poste
    Commune {
        #[command(subcommand)]
        action: CommuneAction,
    },
    /// Gérer les agents (chacun a son nom et son code PIN)
    Agent {
        #[command(subcommand)]
        action: AgentAction,
    },
    /// Enregistrer les identifiants Hubee et le jeton API Particulier (chiffrés)
    Secret {
        #[command(subcommand)]
        action: SecretAction,
    },
    /// Sauvegarder ou restaurer les données
    Sauvegarde {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Relever les dossiers FormulaireQF sur Hubee : une passe complète (toutes les communes
    /// configurées, ou celle donnée)
    Sync {
        /// SIRET de la commune (par défaut, toutes celles qui ont leurs identifiants Hubee)
        #[arg(long)]
        commune: Option<String>,
    },
    /// Retrouver au guichet le quotient familial d'une famille (API Particulier), par l'identité
    /// d'un allocataire ; chaque appel est inscrit au journal des accès
    #[command(alias = "rechercher")]
    Lookup(Box<LookupArgs>),
    /// Actualiser les QF des familles sur API Particulier (celles qui ont refusé l'actualisation
    /// ne sont pas interrogées) ; reprend une actualisation interrompue. Sans --agent, c'est
    /// l'actualisation programmée (agent « système »)
    #[command(alias = "actualiser")]
    Refresh {
        /// SIRET de la commune (par défaut, toutes celles qui ont leur jeton API Particulier)
        #[arg(long)]
        commune: Option<String>,
        /// Débit en requêtes par seconde (jamais au-delà du débit configuré)
        #[arg(long, value_name = "R")]
        rate: Option<u32>,
        /// Interroger et afficher l'aperçu sans rien enregistrer dans les dossiers famille
        /// (la fenêtre peut ensuite l'appliquer)
        #[arg(long)]
        dry_run: bool,
        /// Nom de l'agent qui lance l'actualisation (un agent enregistré), inscrit au journal
        #[arg(long, value_name = "NOM")]
        agent: Option<String>,
    },
    /// Supprimer les données arrivées au terme de leur durée de conservation (Paramètres,
    /// « Conservation des données ») : une sauvegarde de sécurité d'abord, la purge inscrite au
    /// journal des accès et gardée pour le bordereau d'élimination
    #[command(alias = "purger")]
    Purge {
        /// Afficher ce qui serait supprimé, sans rien supprimer
        #[arg(long)]
        simulation: bool,
        /// Nom de l'administrateur qui lance la purge (un agent enregistré), inscrit au journal
        #[arg(long, value_name = "NOM")]
        agent: Option<String>,
    },
    /// Le réseau de la mairie : tester l'accès à Hubee et à API Particulier à travers le proxy
    /// enregistré dans Paramètres › Réseau et proxy
    Reseau {
        #[command(subcommand)]
        action: NetworkAction,
    },
    /// Lister les dossiers reçus, du plus récent au plus ancien
    Dossiers {
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
        /// Sortie JSON (pour les scripts)
        #[arg(long)]
        json: bool,
    },
    /// Lister les familles du fichier des familles : membres et dernier quotient familial
    /// (mois, organisme, source) ; la liste est inscrite au journal des accès comme un export
    Familles {
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
        /// Sortie JSON (pour les scripts)
        #[arg(long)]
        json: bool,
    },
    /// Exporter les familles en CSV pour le logiciel de facturation (données personnelles :
    /// l'export est inscrit au journal des accès avec le nombre de familles)
    #[command(alias = "exporter")]
    Export {
        /// Format : excel-fr (Excel, France : « ; », virgule décimale, JJ/MM/AAAA) ou csv
        /// (« , », point décimal, AAAA-MM-JJ)
        #[arg(long, value_name = "excel-fr|csv")]
        format: String,
        /// Fichier CSV à écrire
        #[arg(long, value_name = "FICHIER")]
        out: std::path::PathBuf,
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
        /// Colonnes, dans l'ordre, séparées par des virgules (par défaut toutes) : famille,
        /// code, allocataires, enfants, nombre_enfants, qf, qf_mois, organisme, source,
        /// date_enregistrement, refus_actualisation, fin_inscription, tranche, tarif
        #[arg(long, value_name = "a,b,c")]
        colonnes: Option<String>,
    },
    /// Clore un dossier sur Hubee : traité ou refusé (définitif)
    Dossier {
        #[command(subcommand)]
        action: DossierAction,
    },
    /// Écrire les documents RGPD de la commune (PDF ou texte modifiable) : la fiche du
    /// registre des traitements, la note d'information des familles, le bordereau d'élimination
    /// d'une purge ; chaque document écrit est inscrit au journal des accès
    Rgpd {
        #[command(subcommand)]
        document: RgpdCommand,
    },
    /// Vérifier, consulter et exporter le journal des accès (conservé au moins 36 mois)
    Journal {
        #[command(subcommand)]
        action: JournalCommand,
    },
    /// Imprimer l'affiche (PDF) qui mène les familles au formulaire national de la commune
    #[command(alias = "affiche")]
    Poster {
        /// Format : a4, a3, a5 (flyer) ou a5x2 (2 flyers A5 sur une page A4)
        #[arg(long, value_enum, hide_possible_values = true)]
        format: crate::poster::Format,
        /// Fichier PDF à écrire
        #[arg(long, value_name = "FICHIER.pdf")]
        out: std::path::PathBuf,
        #[command(flatten)]
        cible: PosterTarget,
        /// Services concernés (par défaut : « Cantine, garderie, centre de loisirs »)
        #[arg(long)]
        services: Option<String>,
        /// Adresse e-mail de la mairie, pour les attestations (et le refus de l'actualisation)
        #[arg(long, value_name = "ADRESSE")]
        email: Option<String>,
        /// La commune actualise les QF des familles : l'affiche dit comment refuser (--email
        /// obligatoire)
        #[arg(long)]
        actualisation: bool,
        /// Logo de la commune (PNG ou JPEG, 2 Mo au plus), en haut à gauche ; par défaut celui
        /// enregistré pour la commune
        #[arg(long, value_name = "FICHIER.png|.jpg")]
        logo: Option<std::path::PathBuf>,
        /// Écrire l'affiche même si la commune n'est pas ouverte sur le formulaire national
        #[arg(long)]
        forcer: bool,
    },
    /// Imprimer les lettres personnelles (un PDF, une page par famille) : chacune porte un QR
    /// code propre à la famille, qui rattache son envoi à son dossier
    #[command(alias = "letters")]
    Lettres {
        /// Fichier PDF à écrire
        #[arg(long, value_name = "FICHIER.pdf")]
        out: std::path::PathBuf,
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
        /// Numéro d'une famille (à répéter) ; sans lui, les familles sans QF depuis
        /// --sans-qf-depuis
        #[arg(long = "famille", value_name = "NUMÉRO")]
        familles: Vec<i64>,
        /// Les familles sans QF, ou dont le dernier QF est antérieur à ce mois (AAAA-MM) ; par
        /// défaut, les douze derniers mois
        #[arg(long, value_name = "AAAA-MM", conflicts_with = "familles")]
        sans_qf_depuis: Option<String>,
    },
    /// Imprimer l'attestation de prise en compte du quotient familial d'une famille (un PDF
    /// d'une page : QF, mois, organisme, source, tranche et tarif de chaque service) ;
    /// l'impression est inscrite au journal des accès
    Attestation {
        /// Code de la famille (26 caractères, affiché dans sa fiche)
        #[arg(long = "famille", value_name = "CODE")]
        famille: String,
        /// Fichier PDF à écrire
        #[arg(long, value_name = "FICHIER.pdf")]
        out: std::path::PathBuf,
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
        /// Nom de l'agent qui délivre l'attestation (un agent enregistré) : ses initiales sont
        /// imprimées et son nom inscrit au journal ; sans lui, l'attestation est signée au nom
        /// de la mairie
        #[arg(long, value_name = "NOM")]
        agent: Option<String>,
    },
    /// Écrire le QR code seul (PNG haute résolution ou SVG), pour le site et le bulletin
    Qr {
        /// Fichier à écrire : .png ou .svg
        #[arg(long, value_name = "FICHIER.png|.svg")]
        out: std::path::PathBuf,
        #[command(flatten)]
        cible: PosterTarget,
    },
    /// Afficher les textes prêts à coller (site internet, e-mail aux familles)
    Textes {
        #[command(flatten)]
        cible: PosterTarget,
        /// Services concernés (par défaut : « Cantine, garderie, centre de loisirs »)
        #[arg(long)]
        services: Option<String>,
        /// Adresse e-mail de la mairie
        #[arg(long, value_name = "ADRESSE")]
        email: Option<String>,
        /// Fréquence de l'actualisation des QF par la commune (par exemple « chaque trimestre ») ;
        /// sans elle, pas de phrase sur l'actualisation
        #[arg(long, value_name = "PÉRIODE")]
        actualisation: Option<String>,
    },
    /// Version, dossier des données et des journaux, réseau et communes : les informations pour
    /// le support, sans donnée personnelle ni secret (les mêmes que « À propos » dans la fenêtre)
    #[command(name = "a-propos", alias = "version")]
    APropos,
    /// Lancer les simulateurs de Hubee et d'API Particulier (données fictives), jusqu'à Ctrl+C
    Simulateur {
        /// Port du simulateur Hubee (par défaut, un port libre)
        #[arg(long, default_value_t = 0, hide_default_value = true)]
        hubee_port: u16,
        /// Port du simulateur API Particulier (par défaut, un port libre)
        #[arg(long, default_value_t = 0, hide_default_value = true)]
        particulier_port: u16,
        /// Nombre de dossiers FormulaireQF déjà en attente (5 par défaut)
        #[arg(long, default_value_t = 5, hide_default_value = true)]
        dossiers: usize,
        /// Première ligne en JSON : adresses, identifiants et jeton (pour les scripts)
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct LookupArgs {
    /// Nom de l'agent qui fait la recherche (un agent enregistré), inscrit au journal
    #[arg(long, value_name = "NOM")]
    agent: String,
    /// Motif de la consultation (par exemple « inscription cantine »), inscrit au journal
    #[arg(long, value_name = "TEXTE")]
    motif: String,
    /// Nom de naissance de l'allocataire
    #[arg(long, value_name = "NOM")]
    nom_naissance: String,
    /// Nom d'usage, s'il diffère du nom de naissance
    #[arg(long, value_name = "NOM")]
    nom_usage: Option<String>,
    /// Prénom ; répétez l'option pour chaque prénom de l'état civil, dans l'ordre (3 au plus)
    #[arg(long, value_name = "PRENOM", required = true, action = ArgAction::Append)]
    prenom: Vec<String>,
    /// Sexe à l'état civil : F ou M
    #[arg(long, value_name = "F|M")]
    sexe: String,
    /// Date de naissance : AAAA-MM-JJ, ou AAAA-MM, ou AAAA (parties inconnues omises)
    #[arg(long, value_name = "AAAA-MM-JJ")]
    date_naissance: Option<String>,
    /// Code COG du pays de naissance (99100 pour la France)
    #[arg(long, value_name = "COG")]
    pays_naissance: String,
    /// Code COG de la commune de naissance (naissance en France seulement)
    #[arg(long, value_name = "COG")]
    commune_naissance: Option<String>,
    /// Nom de la commune de naissance, si son code COG est inconnu (avec le département et
    /// l'année de naissance)
    #[arg(long, value_name = "NOM")]
    commune_naissance_nom: Option<String>,
    /// Département de naissance (avec --commune-naissance-nom)
    #[arg(long, value_name = "CODE")]
    departement_naissance: Option<String>,
    /// Année du mois demandé (par défaut, le mois en cours)
    #[arg(long, value_name = "AAAA", requires = "mois")]
    annee: Option<i32>,
    /// Mois demandé, 1 à 12 (avec --annee)
    #[arg(long, value_name = "MM", requires = "annee")]
    mois: Option<i32>,
    /// SIRET de la commune (facultatif s'il n'y en a qu'une)
    #[arg(long, value_name = "SIRET")]
    commune: Option<String>,
    /// Sortie JSON (pour les scripts)
    #[arg(long)]
    json: bool,
}

/// The proxy modes as typed on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ProxyModeArg {
    Systeme,
    Aucun,
    Manuel,
    Pac,
}

#[derive(Subcommand)]
enum NetworkAction {
    /// Afficher les réglages du proxy (jamais le mot de passe)
    Afficher,
    /// Régler le proxy de la mairie (le mot de passe du proxy est lu sur l'entrée standard avec
    /// --mot-de-passe, jamais en argument)
    Regler {
        /// systeme (réglages de Windows, par défaut), aucun, manuel ou pac
        #[arg(long, value_enum, hide_possible_values = true)]
        mode: ProxyModeArg,
        /// Adresse du proxy manuel (nom ou adresse IP)
        #[arg(long, value_name = "NOM")]
        hote: Option<String>,
        /// Port du proxy manuel
        #[arg(long, value_name = "PORT")]
        port: Option<String>,
        /// Identifiant du proxy (manuel ou désigné par le fichier PAC), s'il en demande un
        #[arg(long, value_name = "IDENTIFIANT")]
        identifiant: Option<String>,
        /// Lire le mot de passe du proxy sur l'entrée standard
        #[arg(long)]
        mot_de_passe: bool,
        /// Effacer le mot de passe du proxy enregistré (une sauvegarde est faite avant)
        #[arg(long)]
        oublier_mot_de_passe: bool,
        /// Adresse du fichier PAC (téléchargé à l'enregistrement, puis suivi)
        #[arg(long, value_name = "URL")]
        pac: Option<String>,
    },
    /// Joindre le point d'accès aux jetons de Hubee et la disponibilité d'API Particulier pour
    /// l'environnement de la commune, et expliquer chaque échec (sortie 1 si l'un échoue)
    Tester {
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
    },
}

#[derive(Subcommand)]
enum CommuneAction {
    /// Enregistrer une commune
    Add {
        /// SIRET de la mairie (14 chiffres)
        #[arg(long)]
        siret: String,
        /// Nom de la commune
        #[arg(long)]
        nom: String,
        /// Code COG (code INSEE de la commune, 5 caractères ; ce n'est pas le code postal)
        #[arg(long)]
        cog: String,
        /// Services de l'État utilisés : production (par défaut), bac-a-sable ou simulateur
        #[arg(
            long,
            value_enum,
            default_value = "production",
            hide_default_value = true,
            hide_possible_values = true
        )]
        environnement: Environment,
    },
    /// Lister les communes
    List {
        /// Sortie JSON (pour les scripts)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AgentAction {
    /// Ajouter un agent ; le code PIN est lu sur l'entrée standard
    Add {
        /// Nom de l'agent, tel qu'il apparaîtra dans le journal des accès
        #[arg(long)]
        nom: String,
        /// Rôle : agent (par défaut) ou administrateur ; le premier agent est toujours
        /// administrateur
        #[arg(
            long,
            value_enum,
            default_value = "agent",
            hide_default_value = true,
            hide_possible_values = true
        )]
        role: Role,
    },
    /// Lister les agents
    List {
        /// Sortie JSON (pour les scripts)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SecretAction {
    /// Enregistrer un secret ; la valeur est lue sur l'entrée standard, jamais en argument
    Set {
        /// Quel secret : hubee-client-id, hubee-client-secret ou particulier-token
        #[arg(value_enum, hide_possible_values = true)]
        secret: SecretKind,
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
    },
    /// Jeton API Particulier compromis : le retirer de ce poste, l'inscrire au journal et
    /// afficher le message à envoyer au support d'API Particulier
    Compromis {
        /// Nom de la personne qui fait la déclaration (inscrit au journal)
        #[arg(long)]
        agent: String,
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
    },
    /// Indiquer quels secrets sont configurés (jamais leur valeur)
    List {
        /// SIRET de la commune (facultatif s'il n'y en a qu'une)
        #[arg(long)]
        commune: Option<String>,
        /// Sortie JSON (pour les scripts)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DossierAction {
    /// Marquer le dossier comme traité (son QF est pris en compte)
    Traiter {
        /// Référence de la démarche (13 caractères), telle que la famille l'a reçue
        reference: String,
    },
    /// Refuser le dossier, avec un motif transmis à la famille
    Refuser {
        /// Référence de la démarche (13 caractères), telle que la famille l'a reçue
        reference: String,
        /// Motif du refus (obligatoire)
        #[arg(long)]
        message: Option<String>,
    },
}

/// Where an RGPD document goes and in which form.
#[derive(clap::Args)]
struct RgpdOutput {
    /// Fichier à écrire
    #[arg(long, value_name = "FICHIER")]
    out: std::path::PathBuf,
    /// pdf (à imprimer) ou texte (modifiable dans un traitement de texte, UTF-8)
    #[arg(long, value_name = "pdf|texte", default_value = "pdf")]
    format: String,
    /// SIRET de la commune (facultatif s'il n'y en a qu'une)
    #[arg(long)]
    commune: Option<String>,
}

#[derive(Subcommand)]
enum RgpdCommand {
    /// La fiche du registre des activités de traitement (article 30 du RGPD), d'après les
    /// paramètres RGPD de la commune et les durées de conservation
    Registre {
        #[command(flatten)]
        sortie: RgpdOutput,
    },
    /// La note d'information des familles (qui, pourquoi, quelles données, combien de temps,
    /// leurs droits et comment refuser l'actualisation)
    Notice {
        #[command(flatten)]
        sortie: RgpdOutput,
    },
    /// Le bordereau d'élimination d'une purge faite (guichet-qf purge), pour le visa des
    /// archives départementales
    Bordereau {
        /// Numéro de la purge (donné par guichet-qf purge)
        #[arg(long, value_name = "N")]
        purge: i64,
        #[command(flatten)]
        sortie: RgpdOutput,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Vérifier que le journal n'a pas été modifié (chaîne d'empreintes) ; code de sortie 1
    /// et numéro de la première ligne altérée sinon
    #[command(alias = "verifier")]
    Verify,
    /// Exporter le journal en CSV (tableur, « ; »), pour le délégué à la protection des données
    #[command(alias = "exporter")]
    Export {
        /// Fichier CSV à écrire
        #[arg(long, value_name = "FICHIER")]
        out: std::path::PathBuf,
        #[command(flatten)]
        filtre: JournalFilterArgs,
    },
    /// Lister les lignes du journal, de la plus récente à la plus ancienne
    #[command(alias = "liste")]
    List {
        #[command(flatten)]
        filtre: JournalFilterArgs,
        /// Nombre de lignes au plus (50 par défaut)
        #[arg(long, default_value_t = 50, hide_default_value = true)]
        nombre: usize,
        /// Sortie JSON (pour les scripts)
        #[arg(long)]
        json: bool,
    },
    /// Supprimer les lignes de plus de 36 mois (une sauvegarde est faite avant) ; jamais de
    /// ligne plus récente
    #[command(alias = "purger")]
    Purge {
        /// Supprimer les lignes antérieures à ce jour (AAAA-MM-JJ, heure locale) ; par défaut,
        /// celles de plus de 36 mois
        #[arg(long, value_name = "AAAA-MM-JJ")]
        avant: Option<String>,
        /// Dire combien de lignes seraient supprimées, sans rien supprimer
        #[arg(long)]
        simulation: bool,
    },
}

#[derive(clap::Args)]
struct JournalFilterArgs {
    /// Premier jour inclus (AAAA-MM-JJ, heure locale)
    #[arg(long, value_name = "AAAA-MM-JJ")]
    depuis: Option<String>,
    /// Dernier jour inclus (AAAA-MM-JJ, heure locale)
    #[arg(long, value_name = "AAAA-MM-JJ")]
    jusqu_au: Option<String>,
    /// SIRET de la commune
    #[arg(long, value_name = "SIRET")]
    commune: Option<String>,
    /// Nom de l'agent, tel qu'il est écrit dans le journal
    #[arg(long, value_name = "NOM")]
    agent: Option<String>,
    /// Action : dossier-ouvert, famille-consultee, consultation-qf, export, impression,
    /// jeton-enregistre, jeton-compromis ou purge
    #[arg(long, value_enum, hide_possible_values = true)]
    action: Option<journal::Action>,
}

/// Which commune a poster is for: a configured one, or a SIRET and a name.
#[derive(clap::Args)]
struct PosterTarget {
    /// SIRET d'une commune enregistrée (facultatif s'il n'y en a qu'une)
    #[arg(long, value_name = "SIRET", conflicts_with_all = ["siret", "nom"])]
    commune: Option<String>,
    /// SIRET d'une commune non enregistrée sur ce poste (avec --nom)
    #[arg(long, value_name = "SIRET", requires = "nom")]
    siret: Option<String>,
    /// Nom de la commune non enregistrée (avec --siret)
    #[arg(long, value_name = "NOM", requires = "siret")]
    nom: Option<String>,
}

#[derive(Subcommand)]
enum BackupAction {
    /// Faire une sauvegarde maintenant
    Creer,
    /// Lister les sauvegardes, de la plus récente à la plus ancienne
    Liste {
        /// Sortie JSON (pour les scripts)
        #[arg(long)]
        json: bool,
    },
    /// Restaurer une sauvegarde (les données actuelles sont mises de côté d'abord)
    Restaurer {
        /// Nom de la sauvegarde, tel que le donne « sauvegarde liste »
        nom: String,
    },
}

const HELP_TEMPLATE: &str = "{about-with-newline}\nUtilisation : {usage}\n\n{all-args}{after-help}";

/// Gives every (sub)command French help headings and flags.
fn frenchify(command: clap::Command) -> clap::Command {
    command
        .help_template(HELP_TEMPLATE)
        .subcommand_help_heading("Commandes")
        .subcommand_value_name("COMMANDE")
        .disable_help_flag(true)
        .disable_help_subcommand(true)
        .disable_version_flag(true)
        .arg(
            clap::Arg::new("aide")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Afficher cette aide"),
        )
        .mut_subcommands(frenchify)
}

/// Describes a command-line mistake in French (clap's own messages are English).
fn usage_error(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(value)) => value.clone(),
        Some(ContextValue::Strings(values)) => values.join(", "),
        _ => String::new(),
    };
    match error.kind() {
        ErrorKind::InvalidSubcommand => format!(
            "commande inconnue « {} ».",
            context(ContextKind::InvalidSubcommand)
        ),
        ErrorKind::UnknownArgument => {
            format!("option inconnue « {} ».", context(ContextKind::InvalidArg))
        }
        ErrorKind::InvalidValue => format!(
            "valeur « {} » refusée pour {} (valeurs possibles : {}).",
            context(ContextKind::InvalidValue),
            context(ContextKind::InvalidArg),
            context(ContextKind::ValidValue)
        ),
        ErrorKind::MissingRequiredArgument => {
            format!("il manque {}.", context(ContextKind::InvalidArg))
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "il manque la commande.".into()
        }
        ErrorKind::ArgumentConflict => "ces options ne vont pas ensemble.".into(),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => "trop de valeurs.".into(),
        _ => "la ligne de commande n'est pas comprise.".into(),
    }
}

/// On Windows the release binary is a GUI program with no console of its own (main.rs), so
/// the command line attaches to the console it was typed in, or its output would go nowhere.
#[cfg(windows)]
fn attach_parent_console() {
    use windows_sys::Win32::System::Console::{AttachConsole, ATTACH_PARENT_PROCESS};
    // SAFETY: AttachConsole has no preconditions. It fails harmlessly when there is no parent
    // console (a scheduled task) or when the process already has one (debug builds).
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}

/// Runs the command line; returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    #[cfg(windows)]
    attach_parent_console();
    let command = frenchify(Cli::command());
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                let _ = error.print();
                return 0;
            }
            if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = error.print();
                return 2;
            }
            eprintln!(
                "Erreur : {}\nPour l'aide : guichet-qf --help",
                usage_error(&error)
            );
            return 2;
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("Erreur : {}", usage_error(&error));
            return 2;
        }
    };
    let launch = match Launch::from_env() {
        Ok(launch) => launch,
        Err(error) => return fail(&error),
    };
    let _log = crate::logging::init(&launch.data_dir, &launch.log_filter);
    match execute(cli.command, &launch) {
        Ok(()) => 0,
        Err(error) => fail(&error),
    }
}

fn fail(error: &Error) -> i32 {
    tracing::warn!(error = %error.detail(), "command failed");
    eprintln!("Erreur : {}", error.message);
    1
}

fn open_store(launch: &Launch, now: Timestamp) -> Result<Store> {
    let store = store::open(&launch.database_path())?;
    crate::setup::daily_backup(&store, now);
    Ok(store)
}

/// `at` as the agent reads it on the town hall's clock: « 23/11/2026 à 17:15 ».
fn local_time(at: Timestamp, time_zone: &jiff::tz::TimeZone) -> String {
    at.to_zoned(time_zone.clone())
        .strftime("%d/%m/%Y à %H:%M")
        .to_string()
}

fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|error| {
        Error::new(Code::Internal, "Sortie JSON impossible.").with_source(error)
    })?;
    println!("{text}");
    Ok(())
}

fn execute(command: Command, launch: &Launch) -> Result<()> {
    let now = Timestamp::now();
    match command {
        Command::Commune { action } => commune(action, launch, now),
        Command::Agent { action } => agent(action, launch, now),
        Command::Secret { action } => secret(action, launch, now),
        Command::Sauvegarde { action } => backup_command(action, launch, now),
        Command::Sync { commune } => sync(launch, commune.as_deref(), now),
        Command::Lookup(args) => lookup_command(launch, &args, now),
        Command::Refresh {
            commune,
            rate,
            dry_run,
            agent,
        } => refresh_command(
            launch,
            &RefreshArgs {
                commune,
                rate,
                dry_run,
                agent,
            },
            now,
        ),
        Command::Purge { simulation, agent } => {
            purge_command(launch, simulation, agent.as_deref(), now)
        }
        Command::Reseau { action } => network_command(action, launch, now),
        Command::Dossiers { commune, json } => list_dossiers(launch, commune.as_deref(), json, now),
        Command::Familles { commune, json } => list_families(launch, commune.as_deref(), json, now),
        Command::Export {
            format,
            out,
            commune,
            colonnes,
        } => export_families(
            launch,
            &format,
            &out,
            commune.as_deref(),
            colonnes.as_deref(),
            now,
        ),
        Command::Dossier { action } => decide(launch, action, now),
        Command::Journal { action } => journal_command(launch, action, now),
        Command::Rgpd { document } => rgpd_command(launch, document, now),
        Command::Poster {
            format,
            out,
            cible,
            services,
            email,
            actualisation,
            logo,
            forcer,
        } => {
            let options = PosterOptions {
                services,
                email,
                actualisation,
                logo,
                forcer,
            };
            poster(launch, format, &out, &cible, options, now)
        }
        Command::Qr { out, cible } => qr(launch, &out, &cible, now),
        Command::Lettres {
            out,
            commune,
            familles,
            sans_qf_depuis,
        } => letters(
            launch,
            &out,
            commune.as_deref(),
            familles,
            sans_qf_depuis.as_deref(),
            now,
        ),
        Command::Attestation {
            famille,
            out,
            commune,
            agent,
        } => attestation(
            launch,
            &famille,
            &out,
            commune.as_deref(),
            agent.as_deref(),
            now,
        ),
        Command::Textes {
            cible,
            services,
            email,
            actualisation,
        } => kit_texts(launch, &cible, services, email, actualisation, now),
        Command::APropos => {
            about(launch);
            Ok(())
        }
        Command::Simulateur {
            hubee_port,
            particulier_port,
            dossiers,
            json,
        } => simulators(hubee_port, particulier_port, dossiers, json),
    }
}

/// `a-propos`: the support text of « À propos ». A missing database is not created, and why
/// one cannot be opened goes to standard error (the text then says "non ouverte").
fn about(launch: &Launch) {
    let path = launch.database_path();
    let store = if path.exists() {
        store::open(&path)
            .inspect_err(|error| eprintln!("{error}"))
            .ok()
    } else {
        None
    };
    let about = crate::support::about(
        &crate::support::Installation {
            data_dir: &launch.data_dir,
            home_dir: launch.home_dir.as_deref(),
            webview: None,
            keystore_available: launch.keystore().available(),
            demo: false,
        },
        store.as_ref(),
    );
    print!("{}", about.support_text);
}

fn commune(action: CommuneAction, launch: &Launch, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    match action {
        CommuneAction::Add {
            siret,
            nom,
            cog,
            environnement,
        } => {
            let input = NewCommune {
                siret,
                name: nom,
                cog,
                environment: environnement,
            };
            let commune = communes::add(&store, &input, now)?;
            println!(
                "Commune « {} » enregistrée (SIRET {}, COG {}, environnement {}).",
                commune.name,
                commune.siret,
                commune.cog,
                commune.environment.label()
            );
        }
        CommuneAction::List { json } => {
            let list = store.read(communes::list)?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("Aucune commune enregistrée.");
            }
            for commune in list {
                println!(
                    "{}\tSIRET {}\tCOG {}\t{}",
                    commune.name,
                    commune.siret,
                    commune.cog,
                    commune.environment.label()
                );
            }
        }
    }
    Ok(())
}

/// Reads one value from standard input: hidden typing on a terminal, else the first line of a
/// pipe (without its line ending).
fn read_hidden(prompt: &str) -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return rpassword::prompt_password(prompt).map_err(Error::from);
    }
    let mut text = String::new();
    stdin.lock().read_to_string(&mut text)?;
    let first_line = text.lines().next().unwrap_or("").to_string();
    Ok(first_line)
}

fn agent(action: AgentAction, launch: &Launch, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    match action {
        AgentAction::Add { nom, role } => {
            let first = store.read(agents::count)? == 0;
            let role = if first { Role::Administrateur } else { role };
            let pin = read_hidden("Code PIN (4 à 8 chiffres) : ")?;
            if std::io::stdin().is_terminal() {
                let again = read_hidden("Confirmez le code PIN : ")?;
                if again != pin {
                    return Err(Error::validation(
                        "Les deux codes PIN saisis sont différents.",
                    ));
                }
            }
            let agent = agents::add(
                &store,
                &NewAgent {
                    name: nom,
                    role,
                    pin,
                },
                now,
            )?;
            let note = if first {
                " (premier agent : administrateur)"
            } else {
                ""
            };
            println!(
                "Agent « {} » ajouté, rôle {}{note}.",
                agent.name,
                role_label(agent.role)
            );
        }
        AgentAction::List { json } => {
            let list = store.read(agents::list)?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("Aucun agent enregistré.");
            }
            for agent in list {
                let state = if agent.active { "" } else { "\t(désactivé)" };
                println!("{}\t{}{state}", agent.name, role_label(agent.role));
            }
        }
    }
    Ok(())
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Agent => "agent",
        Role::Administrateur => "administrateur",
    }
}

fn secret(action: SecretAction, launch: &Launch, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    match action {
        SecretAction::Set { secret, commune } => {
            let commune = store.read(|conn| communes::resolve(conn, commune.as_deref()))?;
            let keystore = launch.keystore();
            let key =
                vault::open_or_init(&store, keystore.as_ref(), launch.passphrase.as_ref(), now)
                    .map_err(with_passphrase_hint)?;
            let value =
                SecretString::from(read_hidden(&format!("Valeur ({}) : ", secret.label()))?);
            vault::set(&store, &key, commune.id, secret, &value, now)?;
            println!(
                "Secret enregistré et chiffré : {} de {}.",
                secret.label(),
                commune.name
            );
        }
        SecretAction::Compromis { agent, commune } => {
            let commune = store.read(|conn| communes::resolve(conn, commune.as_deref()))?;
            let agent = agent.trim();
            if agent.is_empty() {
                return Err(Error::validation(
                    "Indiquez votre nom avec --agent : la déclaration est inscrite au journal.",
                ));
            }
            let report = crate::particulier::compromised::declare(
                &store,
                &commune,
                agent,
                &launch.time_zone,
                now,
            )?;
            println!(
                "Jeton API Particulier de {} retiré de ce poste ; la déclaration est inscrite au \
                 journal.\nEnvoyez maintenant ce message à {} (objet : {}) :\n\n{}",
                commune.name, report.address, report.subject, report.body
            );
        }
        SecretAction::List { commune, json } => {
            let commune = store.read(|conn| communes::resolve(conn, commune.as_deref()))?;
            let statuses = store.read(|conn| vault::statuses(conn, commune.id))?;
            if json {
                return print_json(&statuses);
            }
            for status in statuses {
                match status.configured_at {
                    Some(at) => println!(
                        "{} : configuré le {}",
                        status.kind.title(),
                        local_time(at, &launch.time_zone)
                    ),
                    None => println!("{} : non configuré", status.kind.title()),
                }
            }
        }
    }
    Ok(())
}

fn backup_command(action: BackupAction, launch: &Launch, now: Timestamp) -> Result<()> {
    let database = launch.database_path();
    match action {
        BackupAction::Creer => {
            let store = store::open(&database)?;
            let info = backup::create(&store, backup::BackupKind::Manual, now)?;
            println!("Sauvegarde faite : {}", info.name);
        }
        // Listing works even when the database cannot be opened: that is when it is needed.
        BackupAction::Liste { json } => {
            let list = backup::list_in(&backup::dir_for(&database))?;
            if json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("Aucune sauvegarde.");
            }
            for info in list {
                println!("{}\t{} octets", info.name, info.size_bytes);
            }
        }
        BackupAction::Restaurer { nom } => match store::open(&database) {
            Ok(store) => {
                let safety = backup::restore(&store, &nom, now)?;
                println!(
                    "Sauvegarde « {nom} » restaurée. Les données remplacées sont conservées dans « {} ».",
                    safety.name
                );
            }
            Err(error) if error.code == Code::DatabaseCorrupted => {
                backup::restore_over_damaged(&launch.data_dir, &nom, now)?;
                println!(
                    "Sauvegarde « {nom} » restaurée. Le fichier endommagé est conservé à côté \
                     (….endommage-…)."
                );
            }
            Err(error) => return Err(error),
        },
    }
    let _ = std::io::stdout().flush();
    Ok(())
}

/// What `simulateur --json` prints first: everything a client needs to talk to the simulators.
#[derive(Serialize)]
struct SimulatorInfo {
    hubee: HubeeInfo,
    particulier: ParticulierInfo,
}

#[derive(Serialize)]
struct HubeeInfo {
    auth_url: String,
    api_url: String,
    client_id: String,
    client_secret: String,
    siret: &'static str,
    cog: &'static str,
}

#[derive(Serialize)]
struct ParticulierInfo {
    url: String,
    token: String,
}

/// Serves the demonstration set until SIGINT or SIGTERM. Its credentials and token are
/// fictitious, made for this run, so printing them is the point.
fn simulators(hubee_port: u16, particulier_port: u16, dossiers: usize, json: bool) -> Result<()> {
    use crate::simulators::demo;
    let runtime = tokio::runtime::Runtime::new().map_err(|error| {
        Error::new(Code::Internal, "Les simulateurs n'ont pas pu démarrer.").with_source(error)
    })?;
    runtime.block_on(async {
        let options = demo::Options {
            hubee_port,
            particulier_port,
            dossiers,
            ..demo::Options::default()
        };
        let set = demo::start(options).await.map_err(|error| {
            Error::new(
                Code::Storage,
                "Les simulateurs n'ont pas pu ouvrir leur port (déjà utilisé ?). Choisissez-en un \
                 autre avec --hubee-port et --particulier-port.",
            )
            .with_source(error)
        })?;
        let urls = set.urls();
        let info = SimulatorInfo {
            hubee: HubeeInfo {
                auth_url: urls.hubee_auth_url,
                api_url: urls.hubee_api_url,
                client_id: set.credentials.client_id.clone(),
                client_secret: set.credentials.client_secret.clone(),
                siret: demo::DEMO_SIRET,
                cog: demo::DEMO_COG,
            },
            particulier: ParticulierInfo {
                url: urls.particulier_url,
                token: set.token.clone(),
            },
        };
        if json {
            let line = serde_json::to_string(&info).map_err(|error| {
                Error::new(Code::Internal, "Sortie JSON impossible.").with_source(error)
            })?;
            println!("{line}");
        } else {
            println!(
                "Simulateurs démarrés, avec des données fictives. Arrêt : Ctrl+C.\n\n\
                 Hubee\n  jeton OAuth2 : {}\n  API : {}\n  identifiant client : {}\n  \
                 clé secrète : {}\n  commune : {} (SIRET {}, COG {})\n  \
                 {dossiers} dossier(s) FormulaireQF en attente\n\n\
                 API Particulier\n  adresse : {}\n  jeton : {}",
                info.hubee.auth_url,
                info.hubee.api_url,
                info.hubee.client_id,
                info.hubee.client_secret,
                demo::DEMO_NAME,
                info.hubee.siret,
                info.hubee.cog,
                info.particulier.url,
                info.particulier.token,
            );
        }
        let _ = std::io::stdout().flush();
        stop_signal().await;
        set.stop().await;
        Ok(())
    })
}

/// Resolves on Ctrl+C, or on SIGTERM where there is one (services, `kill`).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A locked or never set up vault, from the command line: the passphrase comes from the
/// environment there, so say which variable.
fn with_passphrase_hint(error: Error) -> Error {
    match error.code {
        Code::VaultLocked | Code::VaultNotInitialised => Error::new(
            error.code,
            format!(
                "{} Depuis la ligne de commande, donnez-la dans la variable d'environnement \
                 GUICHET_QF_PASSPHRASE.",
                error.message
            ),
        ),
        _ => error,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().map_err(|error| {
        Error::new(Code::Internal, "Le moteur réseau n'a pas pu démarrer.").with_source(error)
    })
}

/// Opens the vault for a command that needs the secrets already stored.
/// The town hall's network, opening the vault only when the proxy's password is needed.
fn network_of(store: &Store, launch: &Launch, now: Timestamp) -> Result<crate::network::Network> {
    match crate::network::load(store, None) {
        Err(error) if error.code == Code::VaultLocked => {
            let key = open_vault(store, launch, now)?;
            crate::network::load(store, Some(&key))
        }
        other => other,
    }
}

fn open_vault(store: &Store, launch: &Launch, now: Timestamp) -> Result<vault::DataKey> {
    if store.read(vault::source)?.is_none() {
        return Err(Error::new(
            Code::NotFound,
            "Aucun secret n'est enregistré sur ce poste : configurez d'abord les identifiants \
             Hubee de la commune.",
        ));
    }
    let keystore = launch.keystore();
    vault::open_or_init(store, keystore.as_ref(), launch.passphrase.as_ref(), now)
        .map_err(with_passphrase_hint)
}

/// The Hubee client of a commune, with the URLs of its environment (or the launch overrides).
fn hubee_client(
    store: &Store,
    key: &vault::DataKey,
    launch: &Launch,
    commune: &communes::Commune,
) -> Result<crate::hubee::HubeeClient> {
    let urls = crate::endpoints::resolve(commune.environment, &launch.endpoints, None)?;
    let clock: crate::hubee::Clock = std::sync::Arc::new(Timestamp::now);
    let network = crate::network::load(store, Some(key))?;
    crate::sync::connect::client_for(store, key, &network, commune, &urls, clock)
}

/// One full pass per commune; succeeds only when every pass completed.
fn sync(launch: &Launch, siret: Option<&str>, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    let targets = match siret {
        Some(siret) => vec![store.read(|conn| communes::resolve(conn, Some(siret)))?],
        None => {
            let mut configured = Vec::new();
            for commune in store.read(communes::list)? {
                if crate::sync::connect::has_credentials(&store, &commune)? {
                    configured.push(commune);
                } else {
                    println!(
                        "{} : identifiants Hubee non configurés, commune ignorée.",
                        commune.name
                    );
                }
            }
            if configured.is_empty() {
                return Err(Error::new(
                    Code::NotFound,
                    "Aucune commune n'a ses identifiants Hubee : configurez-les dans Paramètres \
                     › Secrets.",
                ));
            }
            configured
        }
    };
    let key = open_vault(&store, launch, now)?;
    let runtime = runtime()?;
    let mut failures = 0;
    for commune in targets {
        let outcome = hubee_client(&store, &key, launch, &commune).and_then(|client| {
            // The operating system's randomness, for the `external_id` of new families.
            let mut random = rand::rngs::StdRng::from_os_rng();
            runtime.block_on(crate::sync::run_pass(
                &store,
                &client,
                &commune,
                now,
                &mut random,
                &|_| {},
            ))
        });
        match outcome {
            Ok(summary) => println!(
                "{} : {} nouveau(x), {} déjà connu(s), {} incomplet(s), {} erreur(s).",
                commune.name,
                summary.nouveaux,
                summary.deja_connus,
                summary.incomplets,
                summary.erreurs
            ),
            Err(error) => {
                failures += 1;
                tracing::warn!(commune = %commune.siret, error = %error.detail(), "sync failed");
                eprintln!("Erreur : {} : {}", commune.name, error.message);
            }
        }
    }
    if failures > 0 {
        return Err(Error::new(
            Code::Internal,
            "Le relevé n'a pas abouti pour toutes les communes ; il sera repris au prochain \
             passage, rien n'est perdu.",
        ));
    }
    Ok(())
}

/// The retention purge with the installation's limits: the simulation or the real run, its
/// French report on stdout. The export folder is the one the window writes to.
fn purge_command(
    launch: &Launch,
    simulation: bool,
    agent: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    use crate::retention;
    let store = open_store(launch, now)?;
    let agent = match agent {
        Some(name) => {
            let agent = named_agent(&store, name)?;
            if agent.role != agents::Role::Administrateur {
                return Err(Error::new(
                    Code::Forbidden,
                    format!(
                        "La purge est réservée aux administrateurs ; {} n'en est pas un.",
                        agent.name
                    ),
                ));
            }
            agent.name
        }
        None => journal::AGENT_COMMAND_LINE.to_string(),
    };
    let today = now.to_zoned(launch.time_zone.clone()).date();
    let limits = store.read(retention::get)?;
    let report = retention::purge(
        &store,
        &limits,
        simulation,
        &agent,
        now,
        today,
        Some(&launch.documents_dir),
    )?;
    print!("{}", purge_text(&report, &launch.time_zone));
    Ok(())
}

/// The purge's report as the administrator reads it in a terminal.
fn purge_text(report: &crate::retention::PurgeReport, tz: &jiff::tz::TimeZone) -> String {
    let day = |date: jiff::civil::Date| date.strftime("%d/%m/%Y").to_string();
    let limits = &report.limits;
    let mut text = String::new();
    text.push_str(if report.dry_run {
        "Simulation de la purge : rien n'est supprimé.\n"
    } else {
        "Purge des données arrivées au terme de leur conservation.\n"
    });
    text.push_str(&format!(
        "Durées appliquées : QF {} mois, identité de référence {} jour(s) après la fin \
         d'inscription ou l'arrêt de l'actualisation, dossier famille {} mois après la fin \
         d'inscription, fichiers Hubee {} jour(s) après la clôture, exports {} jour(s), \
         journal {} mois.\n",
        limits.qf_history_months,
        limits.identity_days,
        limits.family_months,
        limits.dossier_files_days,
        limits.export_days,
        limits.journal_months
    ));
    for commune in &report.communes {
        text.push_str(&commune.summary);
        if let (Some(from), Some(to)) = (commune.removed_from, commune.removed_to) {
            text.push_str(&format!(" Données du {} au {}.", day(from), day(to)));
        }
        text.push('\n');
    }
    if report.journal_rows > 0 {
        text.push_str(&format!(
            "Journal des accès : {} ligne(s) antérieure(s) au {}.\n",
            report.journal_rows,
            day(report.journal_before.to_zoned(tz.clone()).date())
        ));
    }
    for name in &report.export_files {
        text.push_str(&format!("Fichier d'export : {name}\n"));
    }
    text.push_str(&report.summary);
    text.push('\n');
    if let Some(backup) = &report.backup_name {
        text.push_str(&format!("Sauvegarde de sécurité faite avant : {backup}\n"));
    }
    text
}

struct RefreshArgs {
    commune: Option<String>,
    rate: Option<u32>,
    dry_run: bool,
    agent: Option<String>,
}

/// The registered, active agent named `name` (case and accents forgiven).
fn named_agent(store: &Store, name: &str) -> Result<agents::Agent> {
    let wanted = crate::text::fold(name.trim());
    store
        .read(agents::list)?
        .into_iter()
        .find(|agent| agent.active && crate::text::fold(&agent.name) == wanted)
        .ok_or_else(|| {
            Error::validation(format!(
                "Agent « {} » inconnu ou désactivé : donnez le nom d'un agent enregistré \
                 (guichet-qf agent list).",
                name.trim()
            ))
        })
}

/// Runs or resumes the refresh of each commune, prints its summary, applies it unless
/// `--dry-run`; fails when a run stopped on an error (it resumes at the next invocation).
fn refresh_command(launch: &Launch, args: &RefreshArgs, now: Timestamp) -> Result<()> {
    use crate::particulier;
    use crate::refresh::{self, RunOptions, RunState, Trigger};
    let store = open_store(launch, now)?;
    let (trigger, agent) = match &args.agent {
        Some(name) => (Trigger::Manuelle, named_agent(&store, name)?.name),
        None => (Trigger::Programmee, journal::AGENT_SYSTEM.to_string()),
    };
    let targets = match &args.commune {
        Some(siret) => vec![store.read(|conn| communes::resolve(conn, Some(siret)))?],
        None => {
            let mut configured = Vec::new();
            for commune in store.read(communes::list)? {
                let statuses = store.read(|conn| vault::statuses(conn, commune.id))?;
                if statuses
                    .iter()
                    .any(|s| s.kind == SecretKind::ParticulierToken && s.configured_at.is_some())
                {
                    configured.push(commune);
                } else {
                    println!(
                        "{} : jeton API Particulier non configuré, commune ignorée.",
                        commune.name
                    );
                }
            }
            if configured.is_empty() {
                return Err(Error::new(
                    Code::NotFound,
                    "Aucune commune n'a son jeton API Particulier : enregistrez-le dans \
                     Paramètres › Secrets.",
                ));
            }
            configured
        }
    };
    let configured = particulier::connect::configured_rate(&store)?;
    let rate = match args.rate {
        Some(0) => {
            return Err(Error::validation(
                "--rate : au moins 1 requête par seconde.",
            ))
        }
        Some(asked) if asked > configured => {
            println!(
                "Débit limité à {configured} requêtes par seconde, le débit configuré pour le \
                 jeton."
            );
            configured
        }
        Some(asked) => asked,
        None => configured,
    };
    let options = RunOptions::at_rate(rate);
    if store.read(vault::source)?.is_none() {
        return Err(particulier::connect::missing_token(&targets[0]));
    }
    let key = open_vault(&store, launch, now)?;
    let runtime = runtime()?;
    let today = now.to_zoned(launch.time_zone.clone()).date();
    let clock: particulier::client::Clock = std::sync::Arc::new(Timestamp::now);
    let network = crate::network::load(&store, Some(&key))?;
    let mut failures = 0;
    for commune in targets {
        let outcome = particulier::connect::token_of(&store, &key, &commune)
            .and_then(|token| {
                let urls = crate::endpoints::resolve(commune.environment, &launch.endpoints, None)?;
                particulier::connect::batch_client(
                    &store,
                    &network,
                    urls.particulier_url,
                    token,
                    clock.clone(),
                )
            })
            .and_then(|client| {
                runtime.block_on(refresh::start_and_run(
                    &store,
                    &client,
                    &commune,
                    trigger,
                    &agent,
                    &options,
                    today,
                    &|| clock(),
                    &|_| {},
                ))
            });
        let summary = match outcome {
            Ok(summary) => summary,
            Err(error) => {
                failures += 1;
                tracing::warn!(commune = %commune.siret, error = %error.detail(), "refresh failed");
                eprintln!("Erreur : {} : {}", commune.name, error.message);
                continue;
            }
        };
        println!("{} : {}.", commune.name, summary.sentence());
        let preview = store.read(|conn| refresh::preview(conn, summary.run_id, today))?;
        for review in &preview.to_review {
            println!(
                "  À revoir, famille {} : {}",
                review.external_id, review.message
            );
        }
        if summary.state == RunState::Arretee {
            failures += 1;
            eprintln!(
                "Erreur : {} : {}",
                commune.name,
                summary
                    .stop_reason
                    .as_deref()
                    .unwrap_or("actualisation arrêtée.")
            );
            println!(
                "Rien n'est perdu : la prochaine actualisation reprendra là où celle-ci s'est \
                 arrêtée."
            );
            continue;
        }
        println!("{}", preview.headline);
        if args.dry_run {
            println!(
                "Aperçu seulement (--dry-run) : rien n'est enregistré ; l'écran Actualisation \
                 peut l'appliquer."
            );
            continue;
        }
        let written = store.write(|tx| refresh::apply(tx, summary.run_id, &agent, now))?;
        println!(
            "{written} QF enregistré{} dans les dossiers famille.",
            if written > 1 { "s" } else { "" }
        );
    }
    if failures > 0 {
        return Err(Error::new(
            Code::Internal,
            "L'actualisation n'a pas abouti pour toutes les communes ; elle reprendra au \
             prochain lancement, rien n'est perdu.",
        ));
    }
    Ok(())
}

/// `lookup --json` on failure: what scripts branch on.
#[derive(Serialize)]
struct LookupFailureJson {
    code: Code,
    message: String,
    http_status: Option<u16>,
    api_code: Option<String>,
    request_id: Option<String>,
}

/// A counter lookup from the command line: the family's QF, or why not and what to do.
fn lookup_command(launch: &Launch, args: &LookupArgs, now: Timestamp) -> Result<()> {
    match run_lookup(launch, args, now) {
        Ok(lookup) => {
            if args.json {
                let mut shape = serde_json::Map::new();
                for key in ["quotient_familial", "allocataires", "enfants"] {
                    if let Some(block) = lookup.data.get(key) {
                        shape.insert(key.to_string(), block.clone());
                    }
                }
                shape.insert("request_id".to_string(), lookup.request_id.clone().into());
                return print_json(&shape);
            }
            print_lookup(&lookup);
            Ok(())
        }
        Err(error) => {
            if args.json {
                print_json(&LookupFailureJson {
                    code: error.code,
                    message: error.full_message(),
                    http_status: error.http_status,
                    api_code: error.api_code.clone(),
                    request_id: error.request_id.clone(),
                })?;
            }
            if let Some(request_id) = &error.request_id {
                tracing::info!(request_id = %request_id, "lookup refused");
            }
            Err(Error::from(error))
        }
    }
}

#[allow(clippy::result_large_err)]
fn run_lookup(
    launch: &Launch,
    args: &LookupArgs,
    now: Timestamp,
) -> std::result::Result<crate::particulier::Lookup, crate::particulier::LookupError> {
    use crate::particulier::{self, identity, LookupRequest};
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, args.commune.as_deref()))?;
    let wanted = crate::text::fold(args.agent.trim());
    let agent = store
        .read(agents::list)?
        .into_iter()
        .find(|agent| agent.active && crate::text::fold(&agent.name) == wanted)
        .ok_or_else(|| {
            Error::validation(format!(
                "Agent « {} » inconnu ou désactivé : donnez le nom d'un agent enregistré \
                 (guichet-qf agent list).",
                args.agent.trim()
            ))
        })?;
    let today = now.to_zoned(launch.time_zone.clone()).date();
    let input = identity::IdentityInput {
        nom_naissance: args.nom_naissance.clone(),
        nom_usage: args.nom_usage.clone(),
        prenoms: args.prenom.clone(),
        sexe: args.sexe.clone(),
        date_naissance: args.date_naissance.clone(),
        pays_naissance: args.pays_naissance.clone(),
        commune_naissance: args.commune_naissance.clone(),
        commune_naissance_nom: args.commune_naissance_nom.clone(),
        departement_naissance: args.departement_naissance.clone(),
    };
    let identity = identity::normalise(&input, today)?;
    let period = match (args.annee, args.mois) {
        (Some(annee), Some(mois)) => Some(identity::period(annee, mois, today)?),
        _ => None,
    };
    particulier::check_motif(&args.motif)?;
    if store.read(vault::source)?.is_none() {
        return Err(particulier::connect::missing_token(&commune).into());
    }
    let keystore = launch.keystore();
    let key = vault::open_or_init(&store, keystore.as_ref(), launch.passphrase.as_ref(), now)
        .map_err(with_passphrase_hint)?;
    let token = particulier::connect::token_of(&store, &key, &commune)?;
    let urls = crate::endpoints::resolve(commune.environment, &launch.endpoints, None)?;
    let clock: particulier::client::Clock = std::sync::Arc::new(Timestamp::now);
    let network = crate::network::load(&store, Some(&key))?;
    let client =
        particulier::connect::counter_client(&store, &network, urls.particulier_url, token, clock)?;
    let request = LookupRequest {
        agent: &agent.name,
        motif: &args.motif,
        identity: &identity,
        period,
    };
    runtime()?.block_on(particulier::lookup(
        &store, &client, &commune, &request, now,
    ))
}

/// The plain French summary of a family found.
fn print_lookup(lookup: &crate::particulier::Lookup) {
    match &lookup.quotient {
        Some(quotient) => println!("{}", quotient.summary()),
        None => println!("Quotient familial non transmis (le jeton n'y donne pas accès)."),
    }
    let person = |p: &crate::particulier::Person| {
        let usage = p
            .nom_usage
            .as_deref()
            .map(|u| format!(" (nom d'usage {u})"))
            .unwrap_or_default();
        format!(
            "  {} {}{usage}, né(e) : {}",
            p.nom_naissance.as_deref().unwrap_or("?"),
            p.prenoms.as_deref().unwrap_or(""),
            p.date_naissance.display()
        )
    };
    if lookup.data.contains_key("allocataires") {
        println!("Allocataire(s) :");
        for p in &lookup.allocataires {
            println!("{}", person(p));
        }
    }
    if lookup.data.contains_key("enfants") {
        println!("Enfant(s) à charge : {}", lookup.enfants.len());
        for p in &lookup.enfants {
            println!("{}", person(p));
        }
    }
    if let Some(request_id) = &lookup.request_id {
        println!("Identifiant de requête : {request_id}");
    }
    println!("Consultation inscrite au journal des accès.");
}

/// `dossiers --json`: the stable shape scripts rely on.
#[derive(Serialize)]
struct DossierJson {
    reference: Option<String>,
    case_id: String,
    external_id: Option<String>,
    statut: &'static str,
    nom: Option<String>,
    prenoms: Option<String>,
    quotient_familial: QuotientJson,
    nb_enfants: Option<i64>,
    recu_le: String,
}

#[derive(Serialize)]
struct QuotientJson {
    fournisseur: Option<String>,
    valeur: Option<i64>,
    annee: Option<i64>,
    mois: Option<i64>,
}

fn network_command(action: NetworkAction, launch: &Launch, now: Timestamp) -> Result<()> {
    use crate::network::{self, NetworkChange, NetworkSettings, NetworkView, ProxyMode};
    let print = |view: &NetworkView| {
        let s = &view.settings;
        let password = match view.proxy_password_configured_at {
            Some(at) => format!("configuré le {}", local_time(at, &launch.time_zone)),
            None => "aucun".to_string(),
        };
        match s.mode {
            ProxyMode::Systeme => println!("Proxy : réglages du système"),
            ProxyMode::Aucun => println!("Proxy : aucun (connexion directe)"),
            ProxyMode::Manuel => {
                println!("Proxy : manuel, {}:{}", s.proxy_host, s.proxy_port);
                if !s.proxy_username.is_empty() {
                    println!("Identifiant : {}", s.proxy_username);
                }
                println!("Mot de passe : {password}");
            }
            ProxyMode::Pac => {
                match view.pac_fetched_at {
                    Some(at) => println!(
                        "Proxy : fichier PAC {}, téléchargé le {}",
                        s.pac_url,
                        local_time(at, &launch.time_zone)
                    ),
                    None => println!(
                        "Proxy : fichier PAC {}, pas encore téléchargé (réglages du système en \
                         attendant)",
                        s.pac_url
                    ),
                }
                if !s.proxy_username.is_empty() {
                    println!("Identifiant : {}", s.proxy_username);
                    println!("Mot de passe : {password}");
                }
            }
        }
    };
    match action {
        NetworkAction::Tester { commune } => network_check(launch, commune.as_deref(), now),
        NetworkAction::Afficher => {
            let store = open_store(launch, now)?;
            print(&store.read(network::view)?);
            Ok(())
        }
        NetworkAction::Regler {
            mode,
            hote,
            port,
            identifiant,
            mot_de_passe,
            oublier_mot_de_passe,
            pac,
        } => {
            let store = open_store(launch, now)?;
            let current = store.read(network::get)?;
            let settings = NetworkSettings {
                mode: match mode {
                    ProxyModeArg::Systeme => ProxyMode::Systeme,
                    ProxyModeArg::Aucun => ProxyMode::Aucun,
                    ProxyModeArg::Manuel => ProxyMode::Manuel,
                    ProxyModeArg::Pac => ProxyMode::Pac,
                },
                proxy_host: hote.unwrap_or(current.proxy_host),
                proxy_port: port.unwrap_or(current.proxy_port),
                proxy_username: identifiant.unwrap_or(current.proxy_username),
                pac_url: pac.unwrap_or(current.pac_url),
            };
            let (key, password) = if mot_de_passe {
                let keystore = launch.keystore();
                let key =
                    vault::open_or_init(&store, keystore.as_ref(), launch.passphrase.as_ref(), now)
                        .map_err(with_passphrase_hint)?;
                (Some(key), Some(read_hidden("Mot de passe du proxy : ")?))
            } else {
                (None, None)
            };
            let view = runtime()?.block_on(network::save_fetching_pac(
                &store,
                key.as_ref(),
                NetworkChange {
                    settings,
                    proxy_password: password,
                    forget_proxy_password: oublier_mot_de_passe,
                },
                now,
                network::pac::FETCH_TIMEOUT,
            ))?;
            println!("Réglages du réseau enregistrés.");
            print(&view);
            Ok(())
        }
    }
}

/// `reseau tester`: the same lines as the window's "Tester la connexion", exit 1 on a failure.
fn network_check(launch: &Launch, siret: Option<&str>, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, siret))?;
    let urls = crate::endpoints::resolve(commune.environment, &launch.endpoints, None)?;
    let key = match store.read(vault::source)? {
        Some(_) => Some(open_vault(&store, launch, now)?),
        None => None,
    };
    let report = runtime()?.block_on(crate::network::check::check_commune(
        &store,
        key.as_ref(),
        &commune,
        &urls,
        crate::network::check::DEFAULT_TIMEOUT,
        now,
    ))?;
    print!("{}", report.text());
    if report.ok() {
        Ok(())
    } else {
        Err(Error::new(
            Code::ServiceUnavailable,
            "Au moins une vérification a échoué : voir « À faire » ci-dessus.",
        ))
    }
}

fn list_dossiers(launch: &Launch, siret: Option<&str>, json: bool, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, siret))?;
    let list = store.read(|conn| crate::dossiers::list(conn, commune.id))?;
    if json {
        let rows: Vec<DossierJson> = list
            .into_iter()
            .map(|d| DossierJson {
                reference: d.reference,
                case_id: d.case_id,
                external_id: d.external_id,
                statut: d.statut.id(),
                nom: d.nom_naissance,
                prenoms: d.prenoms,
                quotient_familial: QuotientJson {
                    fournisseur: d.qf_fournisseur,
                    valeur: d.qf_valeur,
                    annee: d.qf_annee,
                    mois: d.qf_mois,
                },
                nb_enfants: d.nb_enfants,
                recu_le: d.received_at.to_string(),
            })
            .collect();
        return print_json(&rows);
    }
    if list.is_empty() {
        println!("Aucun dossier reçu pour {}.", commune.name);
    }
    for d in list {
        let qf = match (d.qf_valeur, d.qf_fournisseur.as_deref()) {
            (Some(valeur), Some(fournisseur)) => format!("QF {valeur} € ({fournisseur})"),
            _ => "QF non transmis".to_string(),
        };
        println!(
            "{}\t{}\t{} {}\t{}\t{}",
            d.reference.as_deref().unwrap_or("-"),
            d.statut.label(),
            d.nom_naissance.as_deref().unwrap_or("?"),
            d.prenoms.as_deref().unwrap_or(""),
            qf,
            d.received_at
        );
    }
    Ok(())
}

/// `guichet-qf familles`: one line per family (id, code, members, last QF), or JSON.
fn list_families(launch: &Launch, siret: Option<&str>, json: bool, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, siret))?;
    let list = store.write(|tx| {
        crate::families::view::export(tx, commune.id, journal::AGENT_COMMAND_LINE, now)
    })?;
    if json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("Aucune famille enregistrée pour {}.", commune.name);
    }
    for family in list {
        let members = family
            .members
            .iter()
            .map(|m| {
                let role = match m.role {
                    crate::families::Role::Allocataire => "allocataire",
                    crate::families::Role::Enfant => "enfant",
                };
                let pivot = if m.pivot {
                    ", identité de référence"
                } else {
                    ""
                };
                format!("{} {} ({role}{pivot})", m.nom_naissance, m.prenoms)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let qf = match &family.last_qf {
            Some(qf) => format!(
                "QF {} — {:02}/{} — {} — {}",
                qf.valeur
                    .map(|v| format!("{v} €"))
                    .unwrap_or_else(|| "ressources non connues".into()),
                qf.mois,
                qf.annee,
                qf.fournisseur,
                qf.source_label
            ),
            None => "aucun QF enregistré".to_string(),
        };
        let refresh = if family.opt_out {
            "\tactualisation refusée"
        } else {
            ""
        };
        println!(
            "{}\t{}\t{}\t{}{}",
            family.id, family.external_id, members, qf, refresh
        );
    }
    Ok(())
}

/// `guichet-qf export`: the family file as CSV for the billing tool, journaled; the path and
/// the count on stdout, the personal-data warning on stderr.
fn export_families(
    launch: &Launch,
    format: &str,
    out: &std::path::Path,
    siret: Option<&str>,
    columns: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    use crate::families::export::{self, Column, Preset, Request};
    let preset = Preset::from_id(format)?;
    let columns = match columns {
        Some(list) => Column::parse_list(list)?,
        None => Column::ALL.to_vec(),
    };
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, siret))?;
    let request = Request {
        commune_id: commune.id,
        preset,
        columns,
        day: now.to_zoned(launch.time_zone.clone()).date(),
    };
    let exported = export::export_file(
        &store,
        &request,
        out,
        journal::AGENT_COMMAND_LINE,
        &launch.time_zone,
        now,
    )?;
    println!(
        "Familles de {} exportées ({}) : {} famille(s) dans « {} ».",
        commune.name,
        preset.label(),
        exported.rows,
        exported.path
    );
    eprintln!("{}", exported.warning);
    Ok(())
}

/// Finds a dossier by the 13-character reference the family was given, in every commune.
fn find_by_reference(store: &Store, reference: &str) -> Result<crate::dossiers::StoredDossier> {
    let wanted = reference.trim().to_ascii_uppercase();
    for commune in store.read(communes::list)? {
        let found = store
            .read(|conn| crate::dossiers::list(conn, commune.id))?
            .into_iter()
            .find(|d| d.reference.as_deref().map(str::to_ascii_uppercase) == Some(wanted.clone()));
        if let Some(dossier) = found {
            return Ok(dossier);
        }
    }
    Err(Error::new(
        Code::NotFound,
        format!("Aucun dossier n'a la référence « {reference} »."),
    ))
}

fn decide(launch: &Launch, action: DossierAction, now: Timestamp) -> Result<()> {
    let (reference, decision) = match action {
        DossierAction::Traiter { reference } => (reference, crate::sync::Decision::Traite),
        DossierAction::Refuser { reference, message } => {
            let message = message.map(|m| m.trim().to_string()).unwrap_or_default();
            if message.is_empty() {
                return Err(Error::validation(
                    "Précisez le motif du refus avec --message : il est transmis à la famille.",
                ));
            }
            (reference, crate::sync::Decision::Refuse { message })
        }
    };
    let store = open_store(launch, now)?;
    let dossier = find_by_reference(&store, &reference)?;
    let commune = store.read(|conn| communes::get(conn, dossier.commune_id))?;
    let key = open_vault(&store, launch, now)?;
    let client = hubee_client(&store, &key, launch, &commune)?;
    let decided = runtime()?.block_on(crate::sync::close_dossier(
        &store, &client, dossier.id, &decision, now,
    ))?;
    println!(
        "Dossier {} : {} (Hubee informé ; formulaire-qf clôturera la démarche).",
        reference,
        decided.statut.label()
    );
    Ok(())
}

/// Parses a day typed as `AAAA-MM-JJ`.
fn parse_day(option: &str, value: Option<&str>) -> Result<Option<jiff::civil::Date>> {
    value
        .map(|text| {
            text.trim().parse().map_err(|_| {
                Error::validation(format!(
                    "La date de {option} « {text} » n'est pas comprise : écrivez-la AAAA-MM-JJ \
                     (par exemple 2026-01-31)."
                ))
            })
        })
        .transpose()
}

fn journal_filter(store: &Store, args: &JournalFilterArgs) -> Result<journal::Filter> {
    let commune_id = match args.commune.as_deref() {
        Some(siret) => Some(store.read(|conn| communes::resolve(conn, Some(siret)))?.id),
        None => None,
    };
    Ok(journal::Filter {
        agent: args.agent.clone(),
        action: args.action,
        commune_id,
        from: parse_day("--depuis", args.depuis.as_deref())?,
        to: parse_day("--jusqu-au", args.jusqu_au.as_deref())?,
        before_id: None,
    })
}

fn journal_command(launch: &Launch, action: JournalCommand, now: Timestamp) -> Result<()> {
    let store = open_store(launch, now)?;
    let tz = &launch.time_zone;
    match action {
        JournalCommand::Verify => {
            let outcome = store.read(journal::verify)?;
            if !outcome.intact {
                return Err(Error::new(
                    Code::Conflict,
                    format!(
                        "Le journal des accès a été altéré à la ligne {} : {}",
                        outcome.broken_row.unwrap_or_default(),
                        outcome.reason.unwrap_or_default()
                    ),
                ));
            }
            if outcome.rows == 0 {
                println!("Journal des accès intact : aucune ligne.");
            } else {
                println!(
                    "Journal des accès intact : {} ligne(s) vérifiée(s), n° {} à {}.\n\
                     Empreinte de la dernière ligne : {}\n\
                     Notez-la : elle permettra de montrer plus tard que rien n'a été modifié \
                     jusqu'à cette ligne.",
                    outcome.rows, outcome.first_id, outcome.last_id, outcome.head_hash
                );
            }
        }
        JournalCommand::Export { out, filtre } => {
            let filter = journal_filter(&store, &filtre)?;
            let exported =
                journal::export_file(&store, &filter, &out, journal::AGENT_COMMAND_LINE, tz, now)?;
            println!(
                "Journal des accès exporté : {} ligne(s) dans « {} ».\n\
                 Ce fichier contient des données personnelles : transmettez-le seulement au \
                 délégué à la protection des données ou à un contrôleur, puis supprimez-le.",
                exported.rows, exported.path
            );
        }
        JournalCommand::List {
            filtre,
            nombre,
            json,
        } => {
            let filter = journal_filter(&store, &filtre)?;
            let rows = store.read(|conn| journal::list(conn, &filter, tz, nombre))?;
            if json {
                return print_json(&rows);
            }
            if rows.is_empty() {
                println!("Aucune ligne dans le journal des accès.");
            }
            for row in rows {
                let local = row.at.to_zoned(tz.clone()).strftime("%d/%m/%Y %H:%M:%S");
                println!(
                    "{}\t{local}\t{}\t{}\t{}\t{}\t{}\t{}",
                    row.id,
                    row.agent,
                    row.action.label(),
                    row.commune_name.as_deref().unwrap_or("-"),
                    row.reference.as_deref().unwrap_or("-"),
                    row.motif.as_deref().unwrap_or("-"),
                    row.http_status
                        .map(|status| status.to_string())
                        .unwrap_or_else(|| "-".into()),
                );
            }
        }
        JournalCommand::Purge { avant, simulation } => {
            let cutoff = match parse_day("--avant", avant.as_deref())? {
                Some(day) => day
                    .to_zoned(tz.clone())
                    .map_err(|_| Error::validation("Cette date n'est pas valable."))?
                    .timestamp(),
                None => journal::retention_limit(now)?,
            };
            journal::check_cutoff(cutoff, now)?;
            let count = store.read(|conn| journal::purgeable(conn, cutoff))?;
            let day = cutoff.to_zoned(tz.clone()).strftime("%d/%m/%Y");
            if simulation || count == 0 {
                println!(
                    "{count} ligne(s) du journal des accès antérieure(s) au {day} \
                     {}.",
                    if simulation {
                        "seraient supprimées"
                    } else {
                        "à supprimer : rien à faire"
                    }
                );
                return Ok(());
            }
            let backup = backup::create(&store, backup::BackupKind::Safety, now)?;
            let deleted = store.write(|tx| {
                journal::purge_older_than(tx, cutoff, now, journal::AGENT_COMMAND_LINE)
            })?;
            println!(
                "{deleted} ligne(s) du journal des accès antérieure(s) au {day} supprimée(s) ; \
                 la purge est inscrite au journal. Sauvegarde faite avant : {}.",
                backup.name
            );
        }
    }
    Ok(())
}

/// The commune a poster is for, and the store where its settings are and its printing is
/// journaled (none on a PC not set up, for `--siret` and `--nom`).
fn poster_commune(
    launch: &Launch,
    target: &PosterTarget,
    now: Timestamp,
) -> Result<(poster::studio::Target, Option<Store>)> {
    if let (Some(siret), Some(name)) = (&target.siret, &target.nom) {
        let siret = crate::identifiers::parse_siret(siret)?;
        let store = if launch.database_path().exists() {
            Some(open_store(launch, now)?)
        } else {
            None
        };
        let commune_id = match &store {
            Some(store) => store
                .read(communes::list)?
                .into_iter()
                .find(|commune| commune.siret == siret)
                .map(|commune| commune.id),
            None => None,
        };
        let target = poster::studio::Target {
            siret,
            name: name.trim().to_string(),
            commune_id,
        };
        return Ok((target, store));
    }
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, target.commune.as_deref()))?;
    Ok((poster::studio::Target::of(&commune), Some(store)))
}

/// The commune's stored poster settings and logo (the defaults for a commune not configured).
fn stored_poster_settings(
    target: &poster::studio::Target,
    store: Option<&Store>,
) -> Result<(poster::settings::PosterSettings, Option<Vec<u8>>)> {
    match (store, target.commune_id) {
        (Some(store), Some(id)) => store.read(|conn| {
            Ok((
                poster::settings::get(conn, id)?,
                poster::settings::logo(conn, id)?.map(|logo| logo.bytes),
            ))
        }),
        _ => Ok((poster::settings::PosterSettings::default(), None)),
    }
}

struct PosterOptions {
    services: Option<String>,
    email: Option<String>,
    actualisation: bool,
    logo: Option<std::path::PathBuf>,
    forcer: bool,
}

fn poster(
    launch: &Launch,
    format: poster::Format,
    out: &std::path::Path,
    target: &PosterTarget,
    options: PosterOptions,
    now: Timestamp,
) -> Result<()> {
    use poster::Listing;
    let (commune, store) = poster_commune(launch, target, now)?;
    // The commune's stored settings, each one replaced by the option given.
    let (mut settings, mut logo) = stored_poster_settings(&commune, store.as_ref())?;
    if let Some(services) = options.services {
        settings.services = services;
    }
    if options.email.is_some() {
        settings.contact_email = options.email;
    }
    if options.actualisation {
        if settings.contact_email.is_none() {
            return Err(Error::validation(
                "Avec --actualisation, donnez l'adresse e-mail à laquelle les familles peuvent \
                 refuser l'actualisation (--email).",
            ));
        }
        settings.refreshes = true;
    }
    if let Some(path) = &options.logo {
        logo = Some(std::fs::read(path).map_err(|error| {
            Error::validation(format!("Le logo « {} » est illisible.", path.display()))
                .with_source(error)
        })?);
    }
    let request = poster::studio::request(&commune, format, &settings, logo.as_deref(), now)?;
    // Without a database there are no network settings: the system's apply.
    let network = match &store {
        Some(store) => network_of(store, launch, now)?,
        None => crate::network::Network::system(),
    };
    let listing = runtime()?.block_on(poster::check_listed(
        &network,
        &launch.formulaire_url,
        &commune.siret,
        std::time::Duration::from_secs(10),
    ));
    match &listing {
        Listing::Open { .. } => println!("{}", listing.message(&commune.siret)),
        Listing::NotListed if !options.forcer => {
            return Err(Error::new(
                Code::NotFound,
                format!(
                    "{} Pour écrire l'affiche quand même, ajoutez --forcer.",
                    listing.message(&commune.siret)
                ),
            ))
        }
        Listing::NotListed | Listing::Unknown(_) => {
            eprintln!("{}", listing.message(&commune.siret))
        }
    }
    let printed = poster::studio::print_poster(
        store.as_ref(),
        &commune,
        &request,
        out,
        journal::AGENT_COMMAND_LINE,
        now,
    )?;
    println!(
        "Affiche {} de {} écrite dans « {} » ({} Ko). Lien : {}",
        format.label(),
        commune.name,
        out.display(),
        (printed.bytes as usize).div_ceil(1024),
        poster::form_url(&commune.siret)?
    );
    Ok(())
}

fn qr(launch: &Launch, out: &std::path::Path, target: &PosterTarget, now: Timestamp) -> Result<()> {
    use poster::studio::QrKind;
    let (commune, store) = poster_commune(launch, target, now)?;
    let extension = out
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    let kind = match extension.as_deref() {
        Some("png") => QrKind::Png,
        Some("svg") => QrKind::Svg,
        _ => {
            return Err(Error::validation(
                "Le fichier du QR code doit se terminer par .png ou .svg.",
            ))
        }
    };
    let printed = poster::studio::print_qr(
        store.as_ref(),
        &commune,
        kind,
        out,
        journal::AGENT_COMMAND_LINE,
        now,
    )?;
    println!(
        "{} de {} écrit dans « {} ». Lien : {}",
        capitalised(&printed.what),
        commune.name,
        out.display(),
        poster::form_url(&commune.siret)?
    );
    Ok(())
}

/// `guichet-qf lettres`: the mailing of the chosen families, or of those without a recent QF.
fn letters(
    launch: &Launch,
    out: &std::path::Path,
    siret: Option<&str>,
    families: Vec<i64>,
    since: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    use poster::mailing::{self, Selection};
    let today = now.to_zoned(launch.time_zone.clone()).date();
    let selection = if !families.is_empty() {
        Selection::Families { ids: families }
    } else {
        let (annee, mois) = match since {
            Some(text) => parse_month("--sans-qf-depuis", text)?,
            None => {
                let start = today
                    .first_of_month()
                    .saturating_sub(jiff::ToSpan::months(11));
                (i32::from(start.year()), i32::from(start.month()))
            }
        };
        Selection::WithoutQfSince { annee, mois }
    };
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, siret))?;
    let printed = mailing::print_letters_to(
        &store,
        commune.id,
        &selection,
        out,
        journal::AGENT_COMMAND_LINE,
        now,
        today,
    )?;
    println!(
        "{} pour {} : « {} » ({} Ko).",
        capitalised(&printed.what),
        commune.name,
        printed.path,
        (printed.bytes as usize).div_ceil(1024),
    );
    Ok(())
}

/// `guichet-qf attestation`: one family's attestation of its QF, found by its code.
fn attestation(
    launch: &Launch,
    code: &str,
    out: &std::path::Path,
    siret: Option<&str>,
    agent: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    use crate::families::{self, attestation};
    let today = now.to_zoned(launch.time_zone.clone()).date();
    let store = open_store(launch, now)?;
    let agent = agent.map(|name| named_agent(&store, name)).transpose()?;
    let commune = store.read(|conn| communes::resolve(conn, siret))?;
    let family_id = store
        .read(|conn| families::find_by_external_id(conn, commune.id, code))?
        .ok_or_else(|| {
            Error::new(
                crate::error::Code::NotFound,
                format!(
                    "Aucune famille de {} n'a le code « {} » : vérifiez-le dans sa fiche \
                     (guichet-qf familles).",
                    commune.name,
                    code.trim()
                ),
            )
        })?;
    let printed = attestation::print_attestation_to(
        &store,
        family_id,
        out,
        agent.as_ref().map(|agent| agent.name.as_str()),
        now,
        today,
    )?;
    println!(
        "Attestation de quotient familial écrite dans « {} » ({} Ko).",
        printed.path,
        (printed.bytes as usize).div_ceil(1024),
    );
    Ok(())
}

/// `guichet-qf rgpd …`: one RGPD document written where asked, journaled.
fn rgpd_command(launch: &Launch, command: RgpdCommand, now: Timestamp) -> Result<()> {
    use crate::rgpd::{self, Format, Which};
    let (sortie, purge) = match &command {
        RgpdCommand::Registre { sortie } | RgpdCommand::Notice { sortie } => (sortie, None),
        RgpdCommand::Bordereau { purge, sortie } => (sortie, Some(*purge)),
    };
    let format = Format::from_id(&sortie.format)?;
    let store = open_store(launch, now)?;
    let commune = store.read(|conn| communes::resolve(conn, sortie.commune.as_deref()))?;
    let which = match (&command, purge) {
        (RgpdCommand::Registre { .. }, _) => Which::Registre {
            commune_id: commune.id,
        },
        (RgpdCommand::Notice { .. }, _) => Which::Notice {
            commune_id: commune.id,
        },
        (_, purge) => Which::Bordereau {
            purge_id: purge.unwrap_or_default(),
            commune_id: commune.id,
        },
    };
    let today = now.to_zoned(launch.time_zone.clone()).date();
    if !matches!(which, Which::Bordereau { .. }) {
        for warning in store
            .read(|conn| rgpd::view(conn, commune.id, today))?
            .warnings
        {
            eprintln!("Attention : {warning}");
        }
    }
    let printed = rgpd::write_document_to(
        &store,
        which,
        format,
        &sortie.out,
        None,
        &launch.time_zone,
        now,
        today,
    )?;
    println!(
        "{} de {} écrit dans « {} » ({} Ko).",
        capitalised(&printed.what),
        commune.name,
        printed.path,
        (printed.bytes as usize).div_ceil(1024),
    );
    Ok(())
}

/// A month typed as `AAAA-MM`.
fn parse_month(option: &str, text: &str) -> Result<(i32, i32)> {
    let parsed = text
        .trim()
        .split_once('-')
        .and_then(|(year, month)| Some((year.parse::<i32>().ok()?, month.parse::<i32>().ok()?)))
        .filter(|(year, month)| (1900..=9999).contains(year) && (1..=12).contains(month));
    parsed.ok_or_else(|| {
        Error::validation(format!(
            "{option} attend un mois sous la forme AAAA-MM (par exemple 2026-01), pas « {} ».",
            text.trim()
        ))
    })
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn kit_texts(
    launch: &Launch,
    target: &PosterTarget,
    services: Option<String>,
    email: Option<String>,
    refresh_period: Option<String>,
    now: Timestamp,
) -> Result<()> {
    let (commune, store) = poster_commune(launch, target, now)?;
    let (mut settings, _) = stored_poster_settings(&commune, store.as_ref())?;
    if let Some(services) = services {
        settings.services = services;
    }
    if email.is_some() {
        settings.contact_email = email;
    }
    // The texts speak of refreshing only when the period is given.
    settings.refreshes = false;
    let texts = poster::studio::kit_texts(&commune, &settings, refresh_period.as_deref())?;
    println!(
        "=== Texte pour le site internet ===\n\n{}\n\n=== E-mail aux familles ===\n\n{}",
        texts.website, texts.email
    );
    Ok(())
}
