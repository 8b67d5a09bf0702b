//! Tariff grids: how a commune turns a family's QF into a price (issue 8, spec §4).
//!
//! Communes price their services in one of two ways (spec §4.1): **brackets** ("tranches", any
//! number, inclusive bounds in whole euros, the last one often open-ended) or a **taux d'effort**
//! (price = QF × rate, clamped between a floor and a ceiling price, or computed on a QF itself
//! clamped). Every grid also has the **default tariff** used when no QF is known — usually the
//! highest — because "ressources non connues" is an unknown QF, never a QF of 0 (which would give
//! the cheapest price to the families the commune knows least about).
//!
//! This module is the pure core: the [`Grid`] as the agent types it, [`validate`] with French
//! messages naming the bracket or the field, and [`price_for`]. It reads no clock: the store
//! functions in [`store`] take the day they price for.
//!
//! Why gaps are warnings and overlaps errors: a grid is copied from the municipal council's
//! délibération, which the agent cannot change, and real ones are sloppy (the Limons garderie
//! reads "901–1200" then "> 1201", leaving 1201 out). An **overlap** makes a QF have two prices,
//! so there is no right answer and the grid is refused. A **gap** is how the délibération is
//! written: the agent must confirm it ([`Grid::gaps_confirmed`]), and a family whose QF falls in
//! it is priced at the default tariff and marked [`Basis::HorsTranches`] so that the agent sees it.
//!
//! Why money is in cents and the rate a decimal string: prices are exact amounts on an invoice,
//! and floats would print 3.5999999. A taux d'effort is written "0,36 %" or "0,0036" in the
//! délibérations; a per-mille integer cannot hold 3.6 ‰, so the rate is kept as the decimal the
//! agent typed and computed with integers, rounded to the nearest cent (half up).
//!
//! Why crèches are refused: the PSU tariff of an EAJE (crèche, halte-garderie) is set by the CNAF
//! from the N-2 annual resources and the number of children, with a resource floor and ceiling
//! (spec §4.3), and those resources come from CDAP or the API Particulier EAJE API, not from the
//! QF. A crèche priced from this QF would be priced wrongly, so such a grid is never saved.

pub mod store;
#[cfg(test)]
mod tests;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// What kind of service a grid prices. Only [`ServiceKind::CrecheEaje`] changes a rule: it is
/// refused (CNAF PSU rules, see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "TariffServiceKind")]
pub enum ServiceKind {
    /// Cantine, périscolaire, accueil de loisirs…
    Ordinaire,
    /// A crèche or another établissement d'accueil du jeune enfant (EAJE).
    CrecheEaje,
}

/// One bracket: a QF from `min` to `max` euros, both included (`max` `None`: and above).
/// Bounds and prices are signed so that a negative one typed by the agent reaches
/// [`validate`] and gets its French message instead of a parse failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "TariffBracket")]
pub struct Bracket {
    /// "Tranche 1", "A"…; empty: "Tranche N" by position.
    #[serde(default)]
    pub label: String,
    #[ts(type = "number")]
    pub min: i64,
    #[ts(type = "number | null")]
    pub max: Option<i64>,
    #[ts(type = "number")]
    pub price_cents: i64,
}

/// A taux d'effort: price = QF × `rate`, the QF first clamped to `qf_floor`/`qf_ceiling` when
/// set, then the price clamped to `floor_cents`/`ceiling_cents` when set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "TariffEffortRate")]
pub struct EffortRate {
    /// Euros per euro of QF, as a decimal: "0.0036" or "0,0036" (0,36 %).
    pub rate: String,
    #[ts(type = "number | null")]
    pub floor_cents: Option<i64>,
    #[ts(type = "number | null")]
    pub ceiling_cents: Option<i64>,
    #[ts(type = "number | null")]
    pub qf_floor: Option<i64>,
    #[ts(type = "number | null")]
    pub qf_ceiling: Option<i64>,
}

/// How a grid prices a known QF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export, rename = "TariffPricing")]
pub enum Pricing {
    Tranches { brackets: Vec<Bracket> },
    TauxEffort(EffortRate),
}

/// A commune's tariff for one service over one period of validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, rename = "TariffGrid")]
pub struct Grid {
    /// `None` for a grid not saved yet.
    #[ts(type = "number | null")]
    #[serde(default)]
    pub id: Option<i64>,
    /// "cantine", "périscolaire", "accueil de loisirs"… as the commune names it.
    pub service: String,
    pub kind: ServiceKind,
    /// First day of validity, included.
    #[ts(type = "string")]
    pub valid_from: Date,
    /// Last day of validity, included; `None`: until a new grid.
    #[ts(type = "string | null")]
    #[serde(default)]
    pub valid_to: Option<Date>,
    /// "repas", "heure", "demi-heure", "demi-journée", "journée"…
    pub unit: String,
    /// The price when no QF is known ("ressources non connues" included).
    #[ts(type = "number")]
    pub default_cents: i64,
    pub pricing: Pricing,
    /// The agent confirmed that the gaps between brackets are the délibération's.
    #[serde(default)]
    pub gaps_confirmed: bool,
}

impl Grid {
    /// Whether the grid applies on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "TariffSeverity")]
pub enum Severity {
    /// The grid cannot be saved.
    Erreur,
    /// The grid can be saved once the agent confirmed it (a gap between brackets).
    Avertissement,
}

/// One thing wrong with a grid, in French, naming the bracket or the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "TariffProblem")]
pub struct Problem {
    pub severity: Severity,
    /// The bracket concerned (0-based), when there is one.
    pub bracket: Option<usize>,
    /// The field concerned: "service", "valid_to", "default_cents", "rate", "brackets"…
    pub field: &'static str,
    pub message: String,
}

impl Problem {
    fn error(field: &'static str, bracket: Option<usize>, message: String) -> Problem {
        Problem {
            severity: Severity::Erreur,
            bracket,
            field,
            message,
        }
    }
}

/// The French message shown when a crèche or EAJE service is configured (spec §4.3).
pub const CRECHE_MESSAGE: &str = "Une crèche ou un autre établissement d'accueil du jeune enfant \
    (EAJE) ne peut pas être tarifé à partir de ce quotient familial : la prestation de service \
    unique (PSU) de la CNAF impose un taux d'effort horaire appliqué aux ressources annuelles N-2 \
    du foyer, selon le nombre d'enfants et entre un plancher et un plafond de ressources fixés par \
    la CNAF. Ces ressources se consultent sur CDAP (CAF) ou l'API Particulier « EAJE », pas sur \
    l'API quotient familial. Calculez ce tarif avec le barème PSU de votre CAF.";

/// Every problem of a grid, errors and warnings, in the order the agent reads the form.
pub fn problems(grid: &Grid) -> Vec<Problem> {
    let mut found = Vec::new();
    if grid.kind == ServiceKind::CrecheEaje {
        found.push(Problem::error("kind", None, CRECHE_MESSAGE.to_string()));
    }
    if grid.service.trim().is_empty() {
        found.push(Problem::error(
            "service",
            None,
            "Indiquez le service tarifé (cantine, périscolaire, accueil de loisirs…).".into(),
        ));
    }
    if grid.unit.trim().is_empty() {
        found.push(Problem::error(
            "unit",
            None,
            "Indiquez l'unité facturée (repas, heure, demi-journée, journée…).".into(),
        ));
    }
    if let Some(to) = grid.valid_to {
        if to < grid.valid_from {
            found.push(Problem::error(
                "valid_to",
                None,
                format!(
                    "La fin de validité ({}) est avant le début ({}).",
                    french_date(to),
                    french_date(grid.valid_from)
                ),
            ));
        }
    }
    if grid.default_cents < 0 {
        found.push(Problem::error(
            "default_cents",
            None,
            "Le tarif par défaut (QF non connu) ne peut pas être négatif.".into(),
        ));
    }
    match &grid.pricing {
        Pricing::Tranches { brackets } => bracket_problems(brackets, &mut found),
        Pricing::TauxEffort(rate) => rate_problems(rate, &mut found),
    }
    found
}

/// `Ok` when the grid can be saved: no error, and no warning left unconfirmed. Otherwise every
/// problem that stops it.
pub fn validate(grid: &Grid) -> Result<(), Vec<Problem>> {
    let blocking: Vec<Problem> = problems(grid)
        .into_iter()
        .filter(|p| p.severity == Severity::Erreur || !grid.gaps_confirmed)
        .collect();
    if blocking.is_empty() {
        Ok(())
    } else {
        Err(blocking)
    }
}

/// [`validate`] as one French error for the CLI and the save: every message in a sentence.
pub fn check(grid: &Grid) -> Result<()> {
    validate(grid).map_err(|problems| {
        let mut message = String::new();
        for problem in &problems {
            if !message.is_empty() {
                message.push(' ');
            }
            message.push_str(&problem.message);
        }
        if problems
            .iter()
            .all(|p| p.severity == Severity::Avertissement)
        {
            message.push_str(
                " Si la délibération est bien ainsi, confirmez les trous entre les tranches.",
            );
        }
        Error::validation(message)
    })
}

/// The bracket's name for the agent: its label, else "Tranche N" (1-based).
pub fn bracket_label(brackets: &[Bracket], index: usize) -> String {
    match brackets.get(index) {
        Some(bracket) if !bracket.label.trim().is_empty() => bracket.label.trim().to_string(),
        _ => format!("Tranche {}", index + 1),
    }
}

fn bracket_problems(brackets: &[Bracket], found: &mut Vec<Problem>) {
    if brackets.is_empty() {
        found.push(Problem::error(
            "brackets",
            None,
            "La grille n'a aucune tranche : ajoutez au moins une tranche.".into(),
        ));
        return;
    }
    let mut well_formed = true;
    for (index, bracket) in brackets.iter().enumerate() {
        let name = bracket_label(brackets, index);
        if bracket.min < 0 {
            well_formed = false;
            found.push(Problem::error(
                "min",
                Some(index),
                format!("{name} : le QF minimum ne peut pas être négatif."),
            ));
        }
        if let Some(max) = bracket.max {
            if max < 0 {
                well_formed = false;
                found.push(Problem::error(
                    "max",
                    Some(index),
                    format!("{name} : le QF maximum ne peut pas être négatif."),
                ));
            } else if max < bracket.min {
                well_formed = false;
                found.push(Problem::error(
                    "max",
                    Some(index),
                    format!(
                        "{name} : le QF maximum ({max} €) est inférieur au minimum ({} €).",
                        bracket.min
                    ),
                ));
            }
        } else if index + 1 < brackets.len() {
            well_formed = false;
            found.push(Problem::error(
                "max",
                Some(index),
                format!("{name} : seule la dernière tranche peut être sans maximum."),
            ));
        }
        if bracket.price_cents < 0 {
            found.push(Problem::error(
                "price_cents",
                Some(index),
                format!("{name} : le tarif ne peut pas être négatif."),
            ));
        }
    }
    if !well_formed {
        return;
    }
    for index in 1..brackets.len() {
        let (previous, current) = (&brackets[index - 1], &brackets[index]);
        let (before, name) = (
            bracket_label(brackets, index - 1),
            bracket_label(brackets, index),
        );
        if current.min < previous.min {
            found.push(Problem::error(
                "min",
                Some(index),
                format!(
                    "{name} commence ({} €) avant {before} ({} €) : rangez les tranches par QF \
                     croissant.",
                    current.min, previous.min
                ),
            ));
            continue;
        }
        // Every bracket but the last has a maximum here (checked above).
        let previous_max = previous.max.unwrap_or(i64::MAX);
        if current.min <= previous_max {
            found.push(Problem::error(
                "min",
                Some(index),
                format!(
                    "{before} (jusqu'à {previous_max} €) et {name} (à partir de {} €) se \
                     chevauchent : un QF de {} € aurait deux tarifs.",
                    current.min, current.min
                ),
            ));
        } else if current.min > previous_max + 1 {
            let (from, to) = (previous_max + 1, current.min - 1);
            let hole = if from == to {
                format!("un QF de {from} €")
            } else {
                format!("les QF de {from} € à {to} €")
            };
            found.push(Problem {
                severity: Severity::Avertissement,
                bracket: Some(index),
                field: "min",
                message: format!(
                    "Entre {before} (jusqu'à {previous_max} €) et {name} (à partir de {} €), \
                     {hole} n'ont pas de tranche : ces familles paieront le tarif par défaut.",
                    current.min
                ),
            });
        }
    }
    if brackets[0].min > 0 {
        found.push(Problem {
            severity: Severity::Avertissement,
            bracket: Some(0),
            field: "min",
            message: format!(
                "{} commence à {} € : les QF inférieurs n'ont pas de tranche et paieront le \
                 tarif par défaut.",
                bracket_label(brackets, 0),
                brackets[0].min
            ),
        });
    }
}

fn rate_problems(rate: &EffortRate, found: &mut Vec<Problem>) {
    match parse_rate(&rate.rate) {
        Some((0, _)) => found.push(Problem::error(
            "rate",
            None,
            "Le taux d'effort doit être supérieur à zéro.".into(),
        )),
        Some(_) => {}
        None => found.push(Problem::error(
            "rate",
            None,
            format!(
                "Le taux d'effort « {} » n'est pas un nombre décimal positif : écrivez par \
                 exemple 0,0036 pour 0,36 %.",
                rate.rate
            ),
        )),
    }
    for (field, value, name) in [
        ("floor_cents", rate.floor_cents, "Le tarif plancher"),
        ("ceiling_cents", rate.ceiling_cents, "Le tarif plafond"),
        ("qf_floor", rate.qf_floor, "Le QF plancher"),
        ("qf_ceiling", rate.qf_ceiling, "Le QF plafond"),
    ] {
        if value.is_some_and(|v| v < 0) {
            found.push(Problem::error(
                field,
                None,
                format!("{name} ne peut pas être négatif."),
            ));
        }
    }
    if let (Some(floor), Some(ceiling)) = (rate.floor_cents, rate.ceiling_cents) {
        if floor > ceiling {
            found.push(Problem::error(
                "floor_cents",
                None,
                format!(
                    "Le tarif plancher ({}) est supérieur au tarif plafond ({}).",
                    euros(floor),
                    euros(ceiling)
                ),
            ));
        }
    }
    if let (Some(floor), Some(ceiling)) = (rate.qf_floor, rate.qf_ceiling) {
        if floor > ceiling {
            found.push(Problem::error(
                "qf_floor",
                None,
                format!("Le QF plancher ({floor} €) est supérieur au QF plafond ({ceiling} €)."),
            ));
        }
    }
}

/// A decimal rate as `(digits, decimals)`: "0,0036" is `(36, 4)`. `None` when it is not a
/// positive decimal with at most 9 decimals.
fn parse_rate(text: &str) -> Option<(u64, u32)> {
    let text = text.trim().replace(',', ".");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 9
        || whole.len() > 6
    {
        return None;
    }
    let decimals = fraction.len() as u32;
    let digits = format!("{whole}{fraction}").parse::<u64>().ok()?;
    Some((digits, decimals))
}

/// Why a family pays what it pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export, rename = "TariffBasis")]
pub enum Basis {
    /// The bracket at this position (0-based).
    Tranche { index: usize },
    /// The taux d'effort gave less than the floor price: the floor.
    Plancher,
    /// QF × rate, between the floor and the ceiling.
    Proportionnel,
    /// The taux d'effort gave more than the ceiling price: the ceiling.
    Plafond,
    /// No QF known: the default tariff.
    Defaut,
    /// The QF falls in a gap of the grid (confirmed by the agent): the default tariff.
    HorsTranches,
}

/// A family's tariff for one grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "TariffPriced")]
pub struct Priced {
    pub basis: Basis,
    /// "Tranche 2", "Taux d'effort (plancher)", "Tarif par défaut (QF non connu)"…
    pub label: String,
    #[ts(type = "number")]
    pub price_cents: i64,
    pub unit: String,
}

/// The price of `grid` for a family whose QF is `qf` (`None`: unknown, "ressources non connues"
/// included — never a QF of 0). A crèche or EAJE grid is refused with [`CRECHE_MESSAGE`].
pub fn price_for(grid: &Grid, qf: Option<u32>) -> Result<Priced> {
    if grid.kind == ServiceKind::CrecheEaje {
        return Err(Error::validation(CRECHE_MESSAGE));
    }
    let priced = |basis, label: String, price_cents| Priced {
        basis,
        label,
        price_cents,
        unit: grid.unit.clone(),
    };
    let Some(qf) = qf else {
        return Ok(priced(
            Basis::Defaut,
            "Tarif par défaut (QF non connu)".into(),
            grid.default_cents,
        ));
    };
    let qf = i64::from(qf);
    match &grid.pricing {
        Pricing::Tranches { brackets } => {
            let found = brackets
                .iter()
                .position(|b| b.min <= qf && b.max.is_none_or(|max| qf <= max));
            Ok(match found {
                Some(index) => priced(
                    Basis::Tranche { index },
                    bracket_label(brackets, index),
                    brackets[index].price_cents,
                ),
                None => priced(
                    Basis::HorsTranches,
                    "Hors tranches (tarif par défaut)".into(),
                    grid.default_cents,
                ),
            })
        }
        Pricing::TauxEffort(rate) => {
            let Some((digits, decimals)) = parse_rate(&rate.rate) else {
                return Err(Error::validation(format!(
                    "Le taux d'effort « {} » de la grille « {} » n'est pas un nombre décimal.",
                    rate.rate, grid.service
                )));
            };
            let mut clamped = qf;
            if let Some(floor) = rate.qf_floor {
                clamped = clamped.max(floor);
            }
            if let Some(ceiling) = rate.qf_ceiling {
                clamped = clamped.min(ceiling);
            }
            // Euros × rate × 100 cents, exact in units of 1/`scale` cent; compared with the
            // floor and the ceiling before rounding, so that the breakpoints are the
            // délibération's (Fay-aux-Loges: the floor up to a QF of 722,22 €).
            let scale = 10_i128.pow(decimals);
            let exact = i128::from(clamped) * i128::from(digits) * 100;
            let raw = i64::try_from((exact * 2 + scale) / (2 * scale)).unwrap_or(i64::MAX);
            let below = |cents: i64| exact < i128::from(cents) * scale;
            let above = |cents: i64| exact > i128::from(cents) * scale;
            Ok(match (rate.floor_cents, rate.ceiling_cents) {
                (Some(floor), _) if below(floor) => priced(
                    Basis::Plancher,
                    "Taux d'effort (tarif plancher)".into(),
                    floor,
                ),
                (_, Some(ceiling)) if above(ceiling) => priced(
                    Basis::Plafond,
                    "Taux d'effort (tarif plafond)".into(),
                    ceiling,
                ),
                _ => priced(Basis::Proportionnel, "Taux d'effort".into(), raw),
            })
        }
    }
}

/// "3,50 €" from 350 cents.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{},{:02} €", cents / 100, cents % 100)
}

fn french_date(day: Date) -> String {
    format!("{:02}/{:02}/{}", day.day(), day.month(), day.year())
}
