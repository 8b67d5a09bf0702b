//! The Hubee sync engine: pulls FormulaireQF dossiers, stores them, then acknowledges them.
pub mod formulaire_qf;
