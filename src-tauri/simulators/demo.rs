//! The demonstration set: both simulators, one fictitious commune subscribed to Hubee with its
//! credentials, an API Particulier token, FormulaireQF dossiers already waiting, and the same
//! families known to API Particulier so that a family who arrived through Hubee can later be
//! looked up (or refreshed) by identity.
//!
//! One function builds it for every user: `guichet-qf simulateur` serves it to outside clients,
//! and the window's demonstration mode runs it in-process. Everything in it is fictitious.

use std::sync::Mutex;

use jiff::SignedDuration;
use serde_json::{json, Value};

use super::clock::SimClock;
use super::hubee::{self, Credentials, FormulaireQf, HubeeSimulator};
use super::particulier::{self, IdentityCase, ParticulierSimulator};
use crate::endpoints::ServiceUrls;

/// A SIRET that passes the Luhn key but belongs to no one (no département 99 commune exists).
pub const DEMO_SIRET: &str = "21999999900010";
/// A COG with the right shape that no commune has.
pub const DEMO_COG: &str = "04999";
pub const DEMO_NAME: &str = "Commune de démonstration";
pub const DEMO_CLIENT_ID: &str = "guichet-qf-demonstration";

/// Every scope of the quotient familial endpoint, so that the demonstration shows all fields.
const DEMO_SCOPES: [&str; 4] = [
    "cnaf_quotient_familial",
    "cnaf_allocataires",
    "cnaf_enfants",
    "cnaf_adresse",
];

/// API Particulier tokens live 18 months.
pub const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(18 * 30 * 24);

pub struct Options {
    /// 0 lets the system choose a free port.
    pub hubee_port: u16,
    pub particulier_port: u16,
    /// Dossiers already waiting on Hubee when the set starts.
    pub dossiers: usize,
    /// Seed of the fictitious families: the same seed gives the same families.
    pub seed: u64,
    pub clock: SimClock,
    /// How long the commune's API Particulier token lives from the start.
    pub token_lifetime: SignedDuration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            hubee_port: 0,
            particulier_port: 0,
            dossiers: 5,
            seed: 2026,
            clock: SimClock::real(),
            token_lifetime: TOKEN_LIFETIME,
        }
    }
}

pub struct Demo {
    pub hubee: HubeeSimulator,
    pub particulier: ParticulierSimulator,
    pub credentials: Credentials,
    /// The API Particulier token of the demonstration commune.
    pub token: String,
    families: Mutex<Families>,
    clock: SimClock,
}

/// The fictitious families, drawn in order from batches of the generator, whose batches cover
/// the cases real data brings (born abroad, MSA, no QF, many children…).
struct Families {
    seed: u64,
    batch: Vec<FormulaireQf>,
    next: usize,
}

const BATCH: usize = 200;

impl Families {
    fn next(&mut self) -> FormulaireQf {
        if self.next == self.batch.len() {
            self.seed = self.seed.wrapping_add(1);
            self.batch = hubee::fictitious_dossiers(self.seed, BATCH);
            self.next = 0;
        }
        self.next += 1;
        self.batch[self.next - 1].clone()
    }
}

/// Starts both simulators and fills them with the demonstration commune and families.
pub async fn start(options: Options) -> std::io::Result<Demo> {
    let hubee = HubeeSimulator::start(
        options.hubee_port,
        hubee::Config {
            clock: options.clock.clone(),
            ..hubee::Config::default()
        },
    )
    .await?;
    let particulier = ParticulierSimulator::start(
        options.particulier_port,
        particulier::Config {
            clock: options.clock.clone(),
            ..particulier::Config::default()
        },
    )
    .await?;
    let credentials = Credentials {
        client_id: DEMO_CLIENT_ID.to_string(),
        client_secret: uuid::Uuid::new_v4().simple().to_string(),
    };
    hubee.add_subscriber(DEMO_SIRET, DEMO_COG, &credentials);
    let token = particulier.mint_token(&DEMO_SCOPES, options.clock.now() + options.token_lifetime);
    let demo = Demo {
        hubee,
        particulier,
        credentials,
        token,
        families: Mutex::new(Families {
            seed: options.seed,
            batch: hubee::fictitious_dossiers(options.seed, BATCH),
            next: 0,
        }),
        clock: options.clock.clone(),
    };
    for _ in 0..options.dossiers {
        demo.add_dossier();
    }
    Ok(demo)
}

impl Demo {
    /// Where the demonstration commune's clients must call.
    pub fn urls(&self) -> ServiceUrls {
        ServiceUrls {
            hubee_auth_url: self.hubee.auth_url(),
            hubee_api_url: self.hubee.api_url(),
            particulier_url: self.particulier.url(),
        }
    }

    /// A new family sends its QF: a dossier waits on Hubee, and API Particulier knows the family.
    pub fn add_dossier(&self) -> FormulaireQf {
        let dossier = self
            .families
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next();
        self.hubee
            .seed_formulaire_qf(DEMO_SIRET, DEMO_COG, &dossier);
        self.particulier.add_case(identity_case(&dossier));
        dossier
    }

    /// A family already known to the commune (a counter visit, an earlier form) whom API
    /// Particulier also knows, for the refresh to ask: the same identity answers without a
    /// month, and for this month and the previous one asked explicitly (a refresh before the
    /// CAF's monthly update asks the previous month).
    pub fn add_family(&self) -> FormulaireQf {
        let family = self
            .families
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next();
        let case = identity_case(&family);
        let today = self.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let previous = today.first_of_month().yesterday().unwrap_or(today);
        for month in [today, previous] {
            let mut dated = case.clone();
            dated.params["annee"] = json!(month.year().to_string());
            dated.params["mois"] = json!(month.month().to_string());
            self.particulier.add_case(dated);
        }
        self.particulier.add_case(case);
        family
    }

    pub async fn stop(self) {
        self.hubee.stop().await;
        self.particulier.stop().await;
    }
}

/// The API Particulier answer for a family, keyed by the identity an agent would type at the
/// counter: the pivot identity of the person who filled the form, as the CAF spells it.
fn identity_case(dossier: &FormulaireQf) -> IdentityCase {
    let identity = &dossier.identity;
    let prenoms: Vec<String> = hubee::caf_spelling(&identity.given_names)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut params = json!({
        "nomNaissance": hubee::caf_spelling(&identity.family_name),
        "prenoms": prenoms,
        "sexeEtatCivil": match identity.gender {
            hubee::Gender::Female => "F",
            hubee::Gender::Male => "M",
        },
        "anneeDateNaissance": identity.birthdate.year(),
        "moisDateNaissance": identity.birthdate.month(),
        "jourDateNaissance": identity.birthdate.day(),
        "codeCogInseePaysNaissance": identity.birth_country,
    });
    if let Some(commune) = &identity.birthplace {
        params["codeCogInseeCommuneNaissance"] = json!(commune);
    }
    let person = |person: &hubee::Person| -> Value {
        json!({
            "nom_naissance": person.nom_naissance,
            "nom_usage": person.nom_usage,
            "prenoms": person.prenoms,
            "date_naissance": person.date_naissance.to_string(),
            "sexe": person.sexe.code(),
        })
    };
    let quotient = &dossier.quotient;
    let first = dossier.allocataires.first();
    let payload = json!({
        "data": {
            "allocataires": dossier.allocataires.iter().map(person).collect::<Vec<_>>(),
            "enfants": dossier.enfants.iter().map(person).collect::<Vec<_>>(),
            "adresse": {
                "destinataire": first
                    .map(|p| format!("{} {}", p.nom_naissance, p.prenoms))
                    .unwrap_or_default(),
                "complement_information": null,
                "complement_information_geographique": null,
                "numero_libelle_voie": "1 PLACE DE LA MAIRIE",
                "lieu_dit": null,
                "code_postal_ville": format!("{DEMO_COG} COMMUNE DE DEMONSTRATION"),
                "pays": "FRANCE",
            },
            "quotient_familial": {
                "fournisseur": quotient.fournisseur.code(),
                "valeur": quotient.valeur,
                "annee": quotient.annee,
                "mois": quotient.mois,
                "annee_calcul": quotient.annee_calcul,
                "mois_calcul": quotient.mois_calcul,
            },
        },
        "links": {},
        "meta": {},
    });
    IdentityCase {
        params,
        status: 200,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    /// The query an agent's lookup would send for the person who filled the form.
    fn lookup_query(dossier: &FormulaireQf) -> Vec<(String, String)> {
        let identity = &dossier.identity;
        let mut query = vec![
            (
                "nomNaissance".to_string(),
                hubee::caf_spelling(&identity.family_name),
            ),
            (
                "sexeEtatCivil".to_string(),
                match identity.gender {
                    hubee::Gender::Female => "F".to_string(),
                    hubee::Gender::Male => "M".to_string(),
                },
            ),
            (
                "anneeDateNaissance".to_string(),
                identity.birthdate.year().to_string(),
            ),
            (
                "moisDateNaissance".to_string(),
                identity.birthdate.month().to_string(),
            ),
            (
                "jourDateNaissance".to_string(),
                identity.birthdate.day().to_string(),
            ),
            (
                "codeCogInseePaysNaissance".to_string(),
                identity.birth_country.clone(),
            ),
            ("recipient".to_string(), DEMO_SIRET.to_string()),
        ];
        for prenom in hubee::caf_spelling(&identity.given_names).split_whitespace() {
            query.push(("prenoms[]".to_string(), prenom.to_string()));
        }
        if let Some(commune) = &identity.birthplace {
            query.push(("codeCogInseeCommuneNaissance".to_string(), commune.clone()));
        }
        query
    }

    #[tokio::test]
    async fn families_received_through_hubee_are_known_to_api_particulier() {
        // A frozen clock moved one second per lookup stays under the 20-per-second limit.
        let clock = SimClock::fixed(Timestamp::from_second(1_795_000_000).unwrap());
        let set = start(Options {
            dossiers: 0,
            clock: clock.clone(),
            ..Options::default()
        })
        .await
        .unwrap();
        let http = reqwest::Client::new();
        let url = format!(
            "{}/v3/dss/quotient_familial/identite",
            set.particulier.url()
        );
        let mut born_abroad = 0;
        for _ in 0..25 {
            clock.advance(SignedDuration::from_secs(1));
            let dossier = set.add_dossier();
            born_abroad += usize::from(dossier.identity.birthplace.is_none());
            let response = http
                .get(&url)
                .bearer_auth(&set.token)
                .query(&lookup_query(&dossier))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{:?}", dossier.identity);
            let body: Value = response.json().await.unwrap();
            let quotient = &body["data"]["quotient_familial"];
            assert_eq!(quotient["fournisseur"], dossier.quotient.fournisseur.code());
            assert_eq!(quotient["valeur"], json!(dossier.quotient.valeur));
            assert_eq!(
                body["data"]["enfants"].as_array().unwrap().len(),
                dossier.enfants.len()
            );
        }
        assert!(
            born_abroad > 0,
            "the sample should include people born abroad"
        );
        set.stop().await;
    }
}
