//! Every grid rule, on the real grids of spec §4.2 kept as data in `testdata/` (Champcevinel,
//! Lieuvin Pays d'Auge, Fay-aux-Loges, Mouais, and the Limons garderie with its gap).

use jiff::civil::Date;
use jiff::Timestamp;

use super::store::{delete, distribution, family_tariffs, grids_on, list, remove, save};
use super::*;
use crate::error::Code;
use crate::families::{self, NewQf, Source};
use crate::store::Store;

fn grid(name: &str) -> Grid {
    let path = format!(
        "{}/src-tauri/tariffs/testdata/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn price(grid: &Grid, qf: u32) -> (Basis, i64) {
    let priced = price_for(grid, Some(qf)).unwrap();
    (priced.basis, priced.price_cents)
}

fn messages(grid: &Grid) -> Vec<String> {
    problems(grid).into_iter().map(|p| p.message).collect()
}

fn brackets_mut(grid: &mut Grid) -> &mut Vec<Bracket> {
    match &mut grid.pricing {
        Pricing::Tranches { brackets } => brackets,
        Pricing::TauxEffort(_) => panic!("a bracket grid"),
    }
}

fn rate_mut(grid: &mut Grid) -> &mut EffortRate {
    match &mut grid.pricing {
        Pricing::TauxEffort(rate) => rate,
        Pricing::Tranches { .. } => panic!("a taux d'effort grid"),
    }
}

#[test]
fn the_four_real_grids_are_valid() {
    for name in [
        "champcevinel",
        "lieuvin_periscolaire",
        "lieuvin_demi_journee",
        "lieuvin_journee",
        "fay_aux_loges",
        "mouais",
    ] {
        assert_eq!(problems(&grid(name)), vec![], "{name}");
        assert_eq!(validate(&grid(name)), Ok(()), "{name}");
    }
}

#[test]
fn champcevinel_prices_each_bound_inclusively() {
    let cantine = grid("champcevinel");
    let tranche = |index| Basis::Tranche { index };
    assert_eq!(price(&cantine, 0), (tranche(0), 100));
    assert_eq!(price(&cantine, 622), (tranche(0), 100));
    assert_eq!(price(&cantine, 623), (tranche(1), 330));
    assert_eq!(price(&cantine, 1000), (tranche(1), 330));
    assert_eq!(price(&cantine, 1001), (tranche(2), 340));
    assert_eq!(price(&cantine, 1500), (tranche(2), 340));
    assert_eq!(price(&cantine, 1501), (tranche(3), 350));
    assert_eq!(price(&cantine, 9999), (tranche(3), 350));
    let priced = price_for(&cantine, Some(623)).unwrap();
    assert_eq!(
        (priced.label.as_str(), priced.unit.as_str()),
        ("Tranche 2", "repas")
    );
}

#[test]
fn lieuvin_prices_its_three_services_from_one_set_of_brackets() {
    let hour = grid("lieuvin_periscolaire");
    let half_day = grid("lieuvin_demi_journee");
    let day = grid("lieuvin_journee");
    for (qf, index, cents) in [
        (399, 0, [29, 92, 146]),
        (400, 1, [71, 114, 192]),
        (799, 2, [100, 161, 268]),
        (800, 3, [135, 218, 363]),
        (1499, 4, [184, 298, 497]),
        (1500, 5, [213, 343, 574]),
    ] {
        let tranche = Basis::Tranche { index };
        assert_eq!(price(&hour, qf), (tranche, cents[0]), "QF {qf}");
        assert_eq!(price(&half_day, qf), (tranche, cents[1]), "QF {qf}");
        assert_eq!(price(&day, qf), (tranche, cents[2]), "QF {qf}");
    }
    assert_eq!(price_for(&half_day, Some(1)).unwrap().unit, "demi-journée");
}

#[test]
fn an_unknown_qf_pays_the_default_tariff_never_the_first_bracket() {
    for name in ["champcevinel", "fay_aux_loges", "mouais"] {
        let grid = grid(name);
        let priced = price_for(&grid, None).unwrap();
        assert_eq!(priced.basis, Basis::Defaut, "{name}");
        assert_eq!(priced.price_cents, grid.default_cents, "{name}");
        assert_eq!(priced.label, "Tarif par défaut (QF non connu)");
    }
    assert_eq!(
        price_for(&grid("champcevinel"), None).unwrap().price_cents,
        350
    );
}

#[test]
fn fay_aux_loges_clamps_the_price_between_its_floor_and_its_ceiling() {
    let cantine = grid("fay_aux_loges");
    // 0,36 % of the QF: 2,60 € up to a QF of 722,22 €, 4,50 € from 1 250 €.
    assert_eq!(price(&cantine, 0), (Basis::Plancher, 260));
    assert_eq!(price(&cantine, 722), (Basis::Plancher, 260));
    assert_eq!(price(&cantine, 723), (Basis::Proportionnel, 260));
    assert_eq!(price(&cantine, 1000), (Basis::Proportionnel, 360));
    assert_eq!(price(&cantine, 1001), (Basis::Proportionnel, 360));
    assert_eq!(
        price(&cantine, 1014),
        (Basis::Proportionnel, 365),
        "3,6504 €"
    );
    assert_eq!(price(&cantine, 1250), (Basis::Proportionnel, 450));
    assert_eq!(price(&cantine, 1251), (Basis::Plafond, 450));
    assert_eq!(price(&cantine, 4000), (Basis::Plafond, 450));
}

#[test]
fn mouais_clamps_the_qf_before_the_rate() {
    let periscolaire = grid("mouais");
    // clamp(QF, 200, 2500) × 0,27 %: 0,54 € … 6,75 € per half-hour.
    assert_eq!(price(&periscolaire, 1), (Basis::Proportionnel, 54));
    assert_eq!(price(&periscolaire, 200), (Basis::Proportionnel, 54));
    assert_eq!(
        price(&periscolaire, 201),
        (Basis::Proportionnel, 54),
        "0,5427 €"
    );
    assert_eq!(price(&periscolaire, 1000), (Basis::Proportionnel, 270));
    assert_eq!(price(&periscolaire, 2500), (Basis::Proportionnel, 675));
    assert_eq!(price(&periscolaire, 2501), (Basis::Proportionnel, 675));
    assert_eq!(
        price_for(&periscolaire, Some(1)).unwrap().unit,
        "demi-heure"
    );
}

#[test]
fn rates_round_to_the_nearest_cent_half_up() {
    let mut grid = grid("mouais");
    let rate = rate_mut(&mut grid);
    rate.qf_floor = None;
    rate.rate = "0.005".into();
    // 101 × 0,005 = 0,505 €: 51 cents; 99 × 0,005 = 0,495 €: 50 cents.
    assert_eq!(price(&grid, 101).1, 51);
    assert_eq!(price(&grid, 99).1, 50);
}

#[test]
fn the_limons_gap_is_a_warning_the_agent_must_confirm_and_a_qf_in_it_pays_the_default() {
    let mut garderie = grid("limons");
    let found = problems(&garderie);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Avertissement);
    assert_eq!(found[0].bracket, Some(3));
    assert_eq!(
        found[0].message,
        "Entre 901 à 1200 € (jusqu'à 1200 €) et > 1201 € (à partir de 1202 €), un QF de 1201 € \
         n'ont pas de tranche : ces familles paieront le tarif par défaut."
    );
    assert!(validate(&garderie).is_err(), "unconfirmed");
    let error = check(&garderie).unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(
        error.message.contains("confirmez les trous"),
        "{}",
        error.message
    );
    garderie.gaps_confirmed = true;
    assert_eq!(validate(&garderie), Ok(()));
    assert_eq!(price(&garderie, 1200), (Basis::Tranche { index: 2 }, 200));
    assert_eq!(price(&garderie, 1201), (Basis::HorsTranches, 220));
    assert_eq!(price(&garderie, 1202), (Basis::Tranche { index: 3 }, 220));
}

#[test]
fn a_wider_gap_and_a_grid_starting_above_zero_are_warnings() {
    let mut cantine = grid("champcevinel");
    brackets_mut(&mut cantine)[1].min = 700;
    brackets_mut(&mut cantine)[0].min = 10;
    let found = problems(&cantine);
    assert!(found.iter().all(|p| p.severity == Severity::Avertissement));
    assert_eq!(
        messages(&cantine),
        vec![
            "Entre Tranche 1 (jusqu'à 622 €) et Tranche 2 (à partir de 700 €), les QF de 623 € \
             à 699 € n'ont pas de tranche : ces familles paieront le tarif par défaut.",
            "Tranche 1 commence à 10 € : les QF inférieurs n'ont pas de tranche et paieront le \
             tarif par défaut.",
        ]
    );
    assert_eq!(price(&cantine, 650), (Basis::HorsTranches, 350));
    assert_eq!(price(&cantine, 5), (Basis::HorsTranches, 350));
}

#[test]
fn an_overlap_is_an_error_even_when_gaps_are_confirmed() {
    // Limons read the other way: "901–1201" then "1201 and more".
    let mut garderie = grid("limons");
    brackets_mut(&mut garderie)[2].max = Some(1201);
    brackets_mut(&mut garderie)[3].min = 1201;
    garderie.gaps_confirmed = true;
    let found = validate(&garderie).unwrap_err();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Erreur);
    assert_eq!(found[0].bracket, Some(3));
    assert_eq!(
        found[0].message,
        "901 à 1200 € (jusqu'à 1201 €) et > 1201 € (à partir de 1201 €) se chevauchent : un QF \
         de 1201 € aurait deux tarifs."
    );
}

#[test]
fn negative_unordered_and_open_bounds_are_named_by_bracket() {
    let mut cantine = grid("champcevinel");
    {
        let brackets = brackets_mut(&mut cantine);
        brackets[0].min = -1;
        brackets[1].max = Some(600);
        brackets[2].max = None;
        brackets[3].price_cents = -5;
        brackets[3].label = String::new();
    }
    assert_eq!(
        messages(&cantine),
        vec![
            "Tranche 1 : le QF minimum ne peut pas être négatif.",
            "Tranche 2 : le QF maximum (600 €) est inférieur au minimum (623 €).",
            "Tranche 3 : seule la dernière tranche peut être sans maximum.",
            "Tranche 4 : le tarif ne peut pas être négatif.",
        ]
    );
    let mut unordered = grid("champcevinel");
    brackets_mut(&mut unordered).swap(1, 2);
    let found: Vec<Problem> = validate(&unordered)
        .unwrap_err()
        .into_iter()
        .filter(|p| p.severity == Severity::Erreur)
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].bracket, Some(2));
    assert_eq!(
        found[0].message,
        "Tranche 2 commence (623 €) avant Tranche 3 (1001 €) : rangez les tranches par QF \
         croissant."
    );
}

#[test]
fn an_empty_grid_and_missing_fields_are_refused() {
    let mut cantine = grid("champcevinel");
    brackets_mut(&mut cantine).clear();
    cantine.service = "  ".into();
    cantine.unit = String::new();
    cantine.default_cents = -1;
    cantine.valid_to = Some(date("2022-08-31"));
    assert_eq!(
        messages(&cantine),
        vec![
            "Indiquez le service tarifé (cantine, périscolaire, accueil de loisirs…).",
            "Indiquez l'unité facturée (repas, heure, demi-journée, journée…).",
            "La fin de validité (31/08/2022) est avant le début (01/09/2022).",
            "Le tarif par défaut (QF non connu) ne peut pas être négatif.",
            "La grille n'a aucune tranche : ajoutez au moins une tranche.",
        ]
    );
}

#[test]
fn a_rate_floor_above_its_ceiling_and_a_bad_rate_are_refused() {
    let mut cantine = grid("fay_aux_loges");
    {
        let rate = rate_mut(&mut cantine);
        rate.floor_cents = Some(500);
        rate.rate = "0,36 %".into();
        rate.qf_floor = Some(900);
        rate.qf_ceiling = Some(800);
    }
    assert_eq!(
        messages(&cantine),
        vec![
            "Le taux d'effort « 0,36 % » n'est pas un nombre décimal positif : écrivez par \
             exemple 0,0036 pour 0,36 %.",
            "Le tarif plancher (5,00 €) est supérieur au tarif plafond (4,50 €).",
            "Le QF plancher (900 €) est supérieur au QF plafond (800 €).",
        ]
    );
    rate_mut(&mut cantine).rate = "0".into();
    rate_mut(&mut cantine).qf_floor = Some(-3);
    let found = messages(&cantine);
    assert!(found.contains(&"Le taux d'effort doit être supérieur à zéro.".to_string()));
    assert!(found.contains(&"Le QF plancher ne peut pas être négatif.".to_string()));
    assert!(price_for(&cantine, Some(100)).is_ok_and(|p| p.price_cents == 500));
    rate_mut(&mut cantine).rate = "abc".into();
    assert_eq!(
        price_for(&cantine, Some(100)).unwrap_err().code,
        Code::Validation
    );
}

#[test]
fn a_creche_is_refused_with_the_cnaf_psu_rules_and_the_right_procedure() {
    let mut creche = grid("champcevinel");
    creche.service = "multi-accueil".into();
    creche.kind = ServiceKind::CrecheEaje;
    let found = validate(&creche).unwrap_err();
    assert_eq!(found[0].field, "kind");
    assert_eq!(found[0].severity, Severity::Erreur);
    for words in [
        "PSU",
        "CNAF",
        "N-2",
        "CDAP",
        "EAJE",
        "barème PSU de votre CAF",
    ] {
        assert!(found[0].message.contains(words), "{words}");
    }
    assert_eq!(
        price_for(&creche, Some(800)).unwrap_err().message,
        CRECHE_MESSAGE
    );
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let error = store
        .write(|tx| save(tx, commune_id, &creche, "Paul", Timestamp::UNIX_EPOCH))
        .unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(store
        .read(|conn| list(conn, commune_id))
        .unwrap()
        .is_empty());
}

#[test]
fn euros_are_written_the_french_way() {
    assert_eq!(euros(350), "3,50 €");
    assert_eq!(euros(5), "0,05 €");
    assert_eq!(euros(-120), "-1,20 €");
}

fn save_grid(store: &Store, commune_id: i64, grid: &Grid) -> i64 {
    store
        .write(|tx| save(tx, commune_id, grid, "Paul Martin", Timestamp::UNIX_EPOCH))
        .unwrap()
}

fn family(store: &Store, commune_id: i64, qfs: &[(Option<u32>, i32, i32)]) -> i64 {
    use rand::SeedableRng;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let mut random =
        rand::rngs::StdRng::seed_from_u64(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let now = Timestamp::UNIX_EPOCH;
    store
        .write(|tx| {
            let id = families::create(tx, commune_id, "Paul Martin", now, &mut random)?;
            for &(valeur, annee, mois) in qfs {
                let qf = NewQf {
                    valeur,
                    annee,
                    mois,
                    fournisseur: "CNAF".into(),
                    source: Source::Guichet,
                };
                families::add_qf(tx, id, &qf, "Paul Martin", now)?;
            }
            Ok(id)
        })
        .unwrap()
}

#[test]
fn grids_are_saved_listed_replaced_and_deleted_per_commune() {
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let cantine = save_grid(&store, commune_id, &grid("champcevinel"));
    let periscolaire = save_grid(&store, commune_id, &grid("mouais"));
    let grids = store.read(|conn| list(conn, commune_id)).unwrap();
    assert_eq!(grids.len(), 2);
    assert_eq!(grids[0].id, Some(cantine));
    assert_eq!(
        Grid {
            id: None,
            ..grids[0].clone()
        },
        grid("champcevinel"),
        "read back as saved"
    );
    assert_eq!(grids[1].id, Some(periscolaire));

    let mut changed = grids[1].clone();
    rate_mut(&mut changed).rate = "0.003".into();
    assert_eq!(save_grid(&store, commune_id, &changed), periscolaire);
    let grids = store.read(|conn| list(conn, commune_id)).unwrap();
    assert_eq!(grids[1], changed);

    let mut limons = grid("limons");
    let error = store
        .write(|tx| save(tx, commune_id, &limons, "Paul", Timestamp::UNIX_EPOCH))
        .unwrap_err();
    assert_eq!(error.code, Code::Validation, "gap not confirmed");
    limons.gaps_confirmed = true;
    save_grid(&store, commune_id, &limons);

    let backups = crate::store::backup::list(&store).unwrap().len();
    remove(&store, commune_id, periscolaire, Timestamp::UNIX_EPOCH).unwrap();
    assert_eq!(store.read(|conn| list(conn, commune_id)).unwrap().len(), 2);
    assert_eq!(
        crate::store::backup::list(&store).unwrap().len(),
        backups + 1,
        "a safety backup first"
    );
    assert_eq!(
        remove(&store, commune_id, periscolaire, Timestamp::UNIX_EPOCH)
            .unwrap_err()
            .code,
        Code::NotFound
    );
    let error = store
        .write(|tx| delete(tx, commune_id, periscolaire))
        .unwrap_err();
    assert_eq!(error.code, Code::NotFound);
    let error = store
        .write(|tx| delete(tx, commune_id + 1, cantine))
        .unwrap_err();
    assert_eq!(error.code, Code::NotFound, "another commune's grid");
}

#[test]
fn two_grids_of_one_service_never_share_a_day_and_the_valid_one_is_chosen() {
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let old = save_grid(&store, commune_id, &grid("champcevinel"));
    let mut next = grid("champcevinel");
    next.service = "Cantine".into();
    next.valid_from = date("2023-08-31");
    next.valid_to = None;
    let error = store
        .write(|tx| save(tx, commune_id, &next, "Paul", Timestamp::UNIX_EPOCH))
        .unwrap_err();
    assert_eq!(error.code, Code::Conflict);
    assert!(error.message.contains("01/09/2022"), "{}", error.message);
    next.valid_from = date("2023-09-01");
    brackets_mut(&mut next)[0].price_cents = 120;
    let new = save_grid(&store, commune_id, &next);

    let on = |day: &str| {
        store
            .read(|conn| grids_on(conn, commune_id, date(day)))
            .unwrap()
            .into_iter()
            .map(|g| g.id.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(on("2022-08-31"), Vec::<i64>::new());
    assert_eq!(on("2022-09-01"), vec![old]);
    assert_eq!(on("2023-08-31"), vec![old]);
    assert_eq!(on("2023-09-01"), vec![new]);
    assert_eq!(on("2030-01-01"), vec![new]);
}

#[test]
fn a_familys_tariffs_come_from_its_latest_qf_and_unknown_resources_are_the_default() {
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let mut cantine = grid("champcevinel");
    cantine.valid_to = None;
    save_grid(&store, commune_id, &cantine);
    save_grid(&store, commune_id, &grid("mouais"));
    let today = date("2025-10-15");

    let known = family(
        &store,
        commune_id,
        &[(Some(1200), 2025, 9), (Some(500), 2025, 3)],
    );
    let tariffs = store
        .read(|conn| family_tariffs(conn, known, today))
        .unwrap();
    assert_eq!(tariffs.len(), 2);
    assert_eq!(tariffs[0].service, "cantine");
    assert_eq!(tariffs[0].qf, Some(1200));
    assert_eq!(tariffs[0].priced.basis, Basis::Tranche { index: 2 });
    assert_eq!(tariffs[0].priced.price_cents, 340);
    assert_eq!(tariffs[1].service, "périscolaire");
    assert_eq!(tariffs[1].priced.price_cents, 324);

    let not_known = family(&store, commune_id, &[(Some(300), 2025, 3), (None, 2025, 9)]);
    let tariffs = store
        .read(|conn| family_tariffs(conn, not_known, today))
        .unwrap();
    assert_eq!(
        tariffs[0].qf, None,
        "ressources non connues is not a QF of 0"
    );
    assert_eq!(
        (tariffs[0].priced.basis, tariffs[0].priced.price_cents),
        (Basis::Defaut, 350)
    );
    let never = family(&store, commune_id, &[]);
    let tariffs = store
        .read(|conn| family_tariffs(conn, never, date("2026-10-01")))
        .unwrap();
    assert_eq!(tariffs.len(), 1, "Mouais's grid ended in August 2026");
    assert_eq!(tariffs[0].priced.basis, Basis::Defaut);
    assert_eq!(
        store
            .read(|conn| family_tariffs(conn, never + 100, today))
            .unwrap_err()
            .code,
        Code::NotFound
    );
}

#[test]
fn the_distribution_counts_families_per_bracket_without_a_name() {
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let mut garderie = grid("limons");
    garderie.gaps_confirmed = true;
    save_grid(&store, commune_id, &garderie);
    save_grid(&store, commune_id, &grid("fay_aux_loges"));
    for qfs in [
        vec![(Some(500), 2025, 9)],
        vec![(Some(501), 2025, 9)],
        vec![(Some(700), 2025, 9), (Some(400), 2025, 1)],
        vec![(Some(1201), 2025, 9)],
        vec![(Some(2000), 2025, 9)],
        vec![(None, 2025, 9)],
        vec![],
    ] {
        family(&store, commune_id, &qfs);
    }
    let today = date("2025-10-01");
    let counts = store
        .read(|conn| distribution(conn, commune_id, "Garderie", today))
        .unwrap();
    assert_eq!((counts.total, counts.unknown_qf), (7, 2));
    let rows: Vec<(&str, u32)> = counts
        .rows
        .iter()
        .map(|r| (r.label.as_str(), r.families))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("≤ 500 €", 1),
            ("501 à 900 €", 2),
            ("901 à 1200 €", 0),
            ("> 1201 €", 1),
            ("Hors tranches", 1),
        ]
    );
    assert!(!serde_json::to_string(&counts).unwrap().contains("MARTIN"));

    let counts = store
        .read(|conn| distribution(conn, commune_id, "cantine", today))
        .unwrap();
    let rows: Vec<u32> = counts.rows.iter().map(|r| r.families).collect();
    assert_eq!(rows, vec![3, 1, 1], "plancher, proportionnel, plafond");

    let error = store
        .read(|conn| distribution(conn, commune_id, "piscine", today))
        .unwrap_err();
    assert_eq!(error.code, Code::NotFound);
    assert_eq!(
        error.message,
        "Aucune grille « piscine » n'est valable le 01/10/2025."
    );
}
