//! The demonstration mode: the whole app on fictitious data, without any credential.
//!
//! A newcomer must see the real flow (a commune, its Hubee credentials and API Particulier token
//! in the vault, dossiers arriving) before the town hall has obtained anything from the State.
//! So the demonstration runs the simulators' demonstration set in-process and works in its own
//! data directory (`demonstration/` inside the real one): its database, vault, backups and logs
//! are separate files, so demonstration data can never mix with a real commune's.
//!
//! The vault of that database is protected by a fixed, published passphrase: everything in it
//! is fictitious, and the demonstration must not touch the PC's keystore.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::agents::{self, Agent, NewAgent, Role};
use crate::communes::{self, Commune, Environment, NewCommune};
use crate::error::{Code, Error, Result};
use crate::simulators::demo::{self, Demo};
use crate::store::{self, Store};
use crate::tariffs::{Bracket, Grid, Pricing, ServiceKind};
use crate::vault::{self, DataKey, SecretKind, SecretString};

/// The demonstration's folder inside the real data directory.
pub const FOLDER: &str = "demonstration";
/// The demonstration vault's passphrase (fictitious secrets only).
pub const PASSPHRASE: &str = "demonstration de guichet qf";
pub const AGENT_NAME: &str = "Agent de démonstration";
/// The demonstration agent's PIN, shown on the lock screen's help in demonstration mode.
pub const AGENT_PIN: &str = "0000";

/// A running demonstration: the simulators and the database prepared for them.
pub struct Demonstration {
    pub set: Demo,
    pub store: Store,
    pub commune: Commune,
    pub agent: Agent,
    pub key: DataKey,
}

pub fn data_dir(real_data_dir: &Path) -> PathBuf {
    real_data_dir.join(FOLDER)
}

/// Starts the simulators and prepares the demonstration database for them; the token lives
/// `token_lifetime` from now.
pub async fn start(
    real_data_dir: &Path,
    token_lifetime: jiff::SignedDuration,
    now: Timestamp,
) -> Result<Demonstration> {
    let set = demo::start(demo::Options {
        token_lifetime,
        ..demo::Options::default()
    })
    .await
    .map_err(|error| {
        Error::new(
            Code::Internal,
            "Les simulateurs de la démonstration n'ont pas pu démarrer.",
        )
        .with_source(error)
    })?;
    let store = store::open(&data_dir(real_data_dir).join(store::DATABASE_FILE))?;
    match prepare(&store, &set, now) {
        Ok((commune, agent, key)) => Ok(Demonstration {
            set,
            store,
            commune,
            agent,
            key,
        }),
        Err(error) => {
            set.stop().await;
            Err(error)
        }
    }
}

/// Creates (once) the demonstration commune and agent, then seals this run's credentials: the
/// simulators make new ones at every start.
fn prepare(store: &Store, set: &Demo, now: Timestamp) -> Result<(Commune, Agent, DataKey)> {
    let commune = match store.read(|conn| communes::resolve(conn, Some(demo::DEMO_SIRET))) {
        Ok(commune) => commune,
        Err(error) if error.code == Code::NotFound => communes::add(
            store,
            &NewCommune {
                siret: demo::DEMO_SIRET.into(),
                name: demo::DEMO_NAME.into(),
                cog: demo::DEMO_COG.into(),
                environment: Environment::Simulateur,
            },
            now,
        )?,
        Err(error) => return Err(error),
    };
    let agent = match store
        .read(agents::list)?
        .into_iter()
        .find(|agent| agent.name == AGENT_NAME)
    {
        Some(agent) => agent,
        None => agents::add(
            store,
            &NewAgent {
                name: AGENT_NAME.into(),
                role: Role::Administrateur,
                pin: AGENT_PIN.into(),
            },
            now,
        )?,
    };
    let passphrase = SecretString::from(PASSPHRASE);
    let key = vault::open_or_init(store, &vault::NoKeystore, Some(&passphrase), now)?;
    for (kind, value) in [
        (SecretKind::HubeeClientId, set.credentials.client_id.clone()),
        (
            SecretKind::HubeeClientSecret,
            set.credentials.client_secret.clone(),
        ),
        (SecretKind::ParticulierToken, set.token.clone()),
    ] {
        vault::set(store, &key, commune.id, kind, &value.into(), now)?;
    }
    // The token is new at every start: what the guardian learnt of the previous one is stale.
    store.write(|tx| crate::particulier::token::forget(tx, commune.id))?;
    seed_families(store, set, &commune, now)?;
    Ok((commune, agent, key))
}

/// Families the demonstration's family file starts with, so that the Actualisation screen has
/// someone to refresh.
pub const DEMO_FAMILIES: usize = 24;

/// The seed of the demonstration families' codes.
const DEMO_CODES_SEED: u64 = 0x51E5;

/// Makes the demonstration's families known to its API Particulier (every start: the
/// simulators start empty) and, the first time, writes them into the family file with their
/// pivot identity and an older QF: two in three then change at the first refresh. The draw is
/// the same at every start, so the stored families always match the simulator's. The first
/// time also saves [`demo_grid`], so that a QF looked up in the demonstration shows its
/// bracket and price; a grid the agent then deletes does not come back.
fn seed_families(store: &Store, set: &Demo, commune: &Commune, now: Timestamp) -> Result<()> {
    use crate::families::{self, BirthParts, NewMember, NewQf, Role, Source};
    use crate::simulators::hubee::{caf_spelling, Gender};
    let drawn: Vec<_> = (0..DEMO_FAMILIES).map(|_| set.add_family()).collect();
    let known: i64 = store.read(|conn| {
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM families WHERE commune_id = ?1",
            [commune.id],
            |row| row.get(0),
        )?)
    })?;
    if known > 0 {
        return Ok(());
    }
    // Their codes come from a fixed seed too: the demonstration draws nothing at random.
    let mut random = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(DEMO_CODES_SEED);
    store.write(|tx| {
        for (index, family) in drawn.iter().enumerate() {
            let identity = &family.identity;
            let id = families::create(tx, commune.id, AGENT_NAME, now, &mut random)?;
            let pivot = NewMember {
                role: Some(Role::Allocataire),
                nom_naissance: caf_spelling(&identity.family_name),
                prenoms: caf_spelling(&identity.given_names),
                sexe: Some(
                    match identity.gender {
                        Gender::Female => "F",
                        Gender::Male => "M",
                    }
                    .to_string(),
                ),
                naissance: BirthParts {
                    annee: Some(i32::from(identity.birthdate.year())),
                    mois: Some(i32::from(identity.birthdate.month())),
                    jour: Some(i32::from(identity.birthdate.day())),
                },
                pays_naissance: Some(identity.birth_country.clone()),
                commune_naissance: identity.birthplace.clone(),
                ..NewMember::default()
            };
            families::add_member(tx, id, &pivot, true, now)?;
            let quotient = &family.quotient;
            let older = quotient.valeur.map(|v| {
                if index % 3 == 0 {
                    v
                } else {
                    v.saturating_sub(40).max(1)
                }
            });
            let qf = NewQf {
                valeur: older,
                annee: i32::from(quotient.annee) - 1,
                mois: i32::from(quotient.mois),
                fournisseur: quotient.fournisseur.code().to_string(),
                source: Source::Guichet,
            };
            families::add_qf(tx, id, &qf, AGENT_NAME, now)?;
        }
        crate::tariffs::store::save(tx, commune.id, &demo_grid(now), AGENT_NAME, now)?;
        Ok(())
    })
}

/// The demonstration's tariff grid: the after-school care of a real délibération (Lieuvin,
/// users-and-peers §4.2), six brackets priced by the hour, valid from the start of the school
/// year in progress with no end, so that it applies whatever the day of the demonstration.
pub fn demo_grid(now: Timestamp) -> Grid {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let year = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let bracket = |min: i64, max: Option<i64>, price_cents: i64| Bracket {
        label: String::new(),
        min,
        max,
        price_cents,
    };
    Grid {
        id: None,
        service: "périscolaire".into(),
        kind: ServiceKind::Ordinaire,
        valid_from: jiff::civil::date(year, 9, 1),
        valid_to: None,
        unit: "heure".into(),
        default_cents: 213,
        pricing: Pricing::Tranches {
            brackets: vec![
                bracket(0, Some(399), 29),
                bracket(400, Some(599), 71),
                bracket(600, Some(799), 100),
                bracket(800, Some(1099), 135),
                bracket(1100, Some(1499), 184),
                bracket(1500, None, 213),
            ],
        },
        gaps_confirmed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::ExposeSecret;

    #[tokio::test]
    async fn the_demonstration_has_its_own_database_commune_agent_and_credentials() {
        let real = tempfile::tempdir().unwrap();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let first = start(real.path(), demo::TOKEN_LIFETIME, now).await.unwrap();
        assert_eq!(first.commune.environment, Environment::Simulateur);
        assert_eq!(first.commune.siret, demo::DEMO_SIRET);
        assert!(first.store.path().starts_with(real.path().join(FOLDER)));
        assert!(
            !real.path().join(store::DATABASE_FILE).exists(),
            "the real database is never created by the demonstration"
        );
        let token = vault::get(
            &first.store,
            &first.key,
            first.commune.id,
            SecretKind::ParticulierToken,
        )
        .unwrap()
        .unwrap();
        assert_eq!(token.expose_secret(), first.set.token);
        let first_secret = first.set.credentials.client_secret.clone();
        first.set.stop().await;
        drop(first.store);

        // A second start reuses the commune and agent and seals the new run's credentials.
        let second = start(real.path(), demo::TOKEN_LIFETIME, now).await.unwrap();
        assert_eq!(second.store.read(communes::list).unwrap().len(), 1);
        assert_eq!(second.store.read(agents::list).unwrap().len(), 1);
        let secret = vault::get(
            &second.store,
            &second.key,
            second.commune.id,
            SecretKind::HubeeClientSecret,
        )
        .unwrap()
        .unwrap();
        assert_eq!(secret.expose_secret(), second.set.credentials.client_secret);
        assert_ne!(secret.expose_secret(), first_secret);
        second.set.stop().await;
    }

    #[tokio::test]
    async fn the_demonstration_prices_by_a_grid_valid_today_that_a_deletion_removes_for_good() {
        use crate::tariffs::store as grids;
        let real = tempfile::tempdir().unwrap();
        // 10 August: the school year in progress started the previous September.
        let august = "2027-08-10T10:00:00Z".parse::<Timestamp>().unwrap();
        let demo = start(real.path(), demo::TOKEN_LIFETIME, august)
            .await
            .unwrap();
        let today = jiff::civil::date(2027, 8, 10);
        let valid = demo
            .store
            .read(|conn| grids::grids_on(conn, demo.commune.id, today))
            .unwrap();
        assert_eq!(valid.len(), 1);
        assert_eq!(valid[0].valid_from, jiff::civil::date(2026, 9, 1));
        assert!(crate::tariffs::problems(&valid[0]).is_empty());
        // A family's latest QF is priced by it (a QF of 650 € is in the third bracket).
        let priced = grids::tariffs_for_qf(&valid, Some(650)).unwrap();
        assert_eq!(priced[0].priced.price_cents, 100, "{priced:?}");
        assert_eq!(priced[0].priced.label, "Tranche 3");
        let grid_id = valid[0].id.unwrap();
        grids::remove(&demo.store, demo.commune.id, grid_id, august).unwrap();
        demo.set.stop().await;
        drop(demo.store);

        let again = start(real.path(), demo::TOKEN_LIFETIME, august)
            .await
            .unwrap();
        assert!(again
            .store
            .read(|conn| grids::list(conn, again.commune.id))
            .unwrap()
            .is_empty());
        again.set.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demonstration_families_are_known_to_its_api_particulier() {
        use crate::refresh::{self, RunOptions, Trigger};
        let real = tempfile::tempdir().unwrap();
        let demo = start(real.path(), demo::TOKEN_LIFETIME, Timestamp::now())
            .await
            .unwrap();
        let token = vault::get(
            &demo.store,
            &demo.key,
            demo.commune.id,
            SecretKind::ParticulierToken,
        )
        .unwrap()
        .unwrap();
        let client = crate::particulier::connect::batch_client(
            &demo.store,
            &crate::network::Network::direct(),
            demo.set.particulier.url(),
            token,
            std::sync::Arc::new(Timestamp::now),
        )
        .unwrap();
        let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let summary = refresh::start_and_run(
            &demo.store,
            &client,
            &demo.commune,
            Trigger::Manuelle,
            AGENT_NAME,
            &RunOptions::at_rate(client.rate()),
            today,
            &Timestamp::now,
            &|_| {},
        )
        .await
        .unwrap();
        assert_eq!(summary.answered, DEMO_FAMILIES as u32, "{summary:?}");
        assert!(summary.changed >= DEMO_FAMILIES as u32 / 2, "{summary:?}");
        demo.set.stop().await;
    }
}
