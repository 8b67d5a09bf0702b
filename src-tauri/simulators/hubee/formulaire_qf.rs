//! One family's submission on formulaire-qf, and the three files the site puts into Hubee.
//!
//! The commune's software only ever sees these files, so the simulator renders them the way
//! formulaire-qf does (`shared/specs/hubee.md` §8): `FormulaireQF.json` with the v3 block and the
//! legacy v2 block, `FormulaireQF.xml` in the style of Rails' `Hash#to_xml`, and a small PDF with
//! the text of `ShipmentData#to_s`. Any drift from §8 here would hide a parsing bug in the client.

use jiff::civil::Date;
use jiff::Timestamp;
use printpdf::{
    BuiltinFont, Mm, OffsetDateTime, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Pt, TextItem,
};
use serde::Serialize;

/// What the citizen sent: who they are (FranceConnect) and their family's quotient familial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaireQf {
    /// The 13 upper-case hexadecimal characters shown to the citizen and used in the folder's
    /// `externalId` (`Formulaire-QF-<reference>`).
    pub reference: String,
    /// The commune software's own identifier, passed in the form's link; `None` when absent.
    pub external_id: Option<String>,
    pub identity: PivotIdentity,
    pub quotient: QuotientFamilial,
    /// One or two adults of the CAF or MSA file.
    pub allocataires: Vec<Person>,
    /// Zero to five children.
    pub enfants: Vec<Person>,
}

/// The FranceConnect "identité pivot" of the person who filled the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotIdentity {
    /// Nom de naissance, as FranceConnect gives it (`family_name`).
    pub family_name: String,
    /// Nom d'usage (`preferred_username`); FormulaireQF does not forward it, API Particulier may.
    pub usage_name: Option<String>,
    /// Prénoms separated by spaces (`given_name`).
    pub given_names: String,
    pub gender: Gender,
    pub birthdate: Date,
    /// INSEE COG code of the birth country, `99100` for France.
    pub birth_country: String,
    /// INSEE COG code of the birth commune; `None` for people born abroad.
    pub birthplace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
}

/// The régime that computed the quotient familial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    Cnaf,
    Msa,
}

impl Regime {
    pub fn code(self) -> &'static str {
        match self {
            Regime::Cnaf => "CNAF",
            Regime::Msa => "MSA",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotientFamilial {
    pub fournisseur: Regime,
    /// The value in euros; `None` when the form could not get it (the PDF then reads "ERREUR").
    pub valeur: Option<u32>,
    pub annee: i16,
    pub mois: i8,
    pub annee_calcul: i16,
    pub mois_calcul: i8,
}

/// A person of the CAF or MSA file, spelled as the régime spells it (upper case, no accents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub nom_naissance: String,
    pub nom_usage: Option<String>,
    pub prenoms: String,
    pub date_naissance: Date,
    pub sexe: Sex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    F,
    M,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::F => "F",
            Sex::M => "M",
        }
    }
}

/// One file of the case, as formulaire-qf uploads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub file_name: String,
    pub mime_type: &'static str,
    pub bytes: Vec<u8>,
}

impl FormulaireQf {
    /// The folder's `externalId`; the case's is this plus `-01`.
    pub fn folder_external_id(&self) -> String {
        format!("Formulaire-QF-{}", self.reference)
    }

    /// The three files in the order formulaire-qf declares them: JSON, XML, PDF.
    /// `submitted_at` dates the PDF.
    pub fn files(&self, submitted_at: Timestamp) -> Vec<RenderedFile> {
        vec![
            RenderedFile {
                file_name: "FormulaireQF.json".into(),
                mime_type: "application/json",
                bytes: self.to_json().into_bytes(),
            },
            RenderedFile {
                file_name: "FormulaireQF.xml".into(),
                mime_type: "application/xml",
                bytes: self.to_xml().into_bytes(),
            },
            RenderedFile {
                file_name: self.pdf_file_name(),
                mime_type: "application/pdf",
                bytes: self.to_pdf(submitted_at),
            },
        ]
    }

    /// `quotient_familial_<family name>_<given names>.pdf`, spaces replaced by `_`, accents kept.
    pub fn pdf_file_name(&self) -> String {
        format!(
            "quotient_familial_{}_{}.pdf",
            self.identity.family_name, self.identity.given_names
        )
        .replace(' ', "_")
    }

    /// Compact JSON with the keys and key order of `ShipmentData#to_h` (§8.3).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.shipment_data())
            .expect("the shipment data has only strings, numbers and nulls")
    }

    /// The XML of Rails' `Hash#to_xml` with its defaults (§8.4).
    pub fn to_xml(&self) -> String {
        let data = self.shipment_data();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hash>\n");
        xml_text(&mut xml, 1, "external-id", data.external_id.as_deref());
        xml.push_str("  <pivot-identity>\n");
        let pivot = &data.pivot_identity;
        xml_text(&mut xml, 2, "birthcountry", Some(&pivot.birthcountry));
        xml_text(&mut xml, 2, "birthdate", Some(&pivot.birthdate));
        xml_text(&mut xml, 2, "birthplace", pivot.birthplace.as_deref());
        xml_text(&mut xml, 2, "family-name", Some(&pivot.family_name));
        xml_text(&mut xml, 2, "given-name", Some(&pivot.given_name));
        xml_text(&mut xml, 2, "gender", Some(pivot.gender));
        xml.push_str("  </pivot-identity>\n  <quotient-familial-v3>\n");
        let v3 = &data.quotient_familial_v3;
        xml_people(
            &mut xml,
            "allocataires",
            "allocataire",
            &v3.allocataires,
            |xml, p| {
                xml_text(xml, 4, "nom-naissance", Some(&p.nom_naissance));
                xml_text(xml, 4, "nom-usage", p.nom_usage.as_deref());
                xml_text(xml, 4, "prenoms", Some(&p.prenoms));
                xml_text(xml, 4, "date-naissance", Some(&p.date_naissance));
                xml_text(xml, 4, "sexe", Some(p.sexe));
            },
        );
        xml_people(&mut xml, "enfants", "enfant", &v3.enfants, |xml, p| {
            xml_text(xml, 4, "nom-naissance", Some(&p.nom_naissance));
            xml_text(xml, 4, "nom-usage", p.nom_usage.as_deref());
            xml_text(xml, 4, "prenoms", Some(&p.prenoms));
            xml_text(xml, 4, "date-naissance", Some(&p.date_naissance));
            xml_text(xml, 4, "sexe", Some(p.sexe));
        });
        let qf = &v3.quotient_familial;
        xml.push_str("    <quotient-familial>\n");
        xml_text(&mut xml, 3, "fournisseur", Some(qf.fournisseur));
        xml_integer(&mut xml, 3, "valeur", qf.valeur.map(i64::from));
        xml_integer(&mut xml, 3, "annee", Some(qf.annee.into()));
        xml_integer(&mut xml, 3, "mois", Some(qf.mois.into()));
        xml_integer(&mut xml, 3, "annee-calcul", Some(qf.annee_calcul.into()));
        xml_integer(&mut xml, 3, "mois-calcul", Some(qf.mois_calcul.into()));
        xml.push_str("    </quotient-familial>\n");
        xml_text(&mut xml, 2, "version", Some(v3.version));
        xml.push_str("  </quotient-familial-v3>\n  <quotient-familial>\n");
        let v2 = &data.quotient_familial;
        xml_text(&mut xml, 2, "regime", Some(v2.regime));
        let v2_person = |xml: &mut String, p: &PersonV2| {
            xml_text(xml, 4, "nomNaissance", Some(&p.nom_naissance));
            xml_text(xml, 4, "nomUsuel", p.nom_usuel.as_deref());
            xml_text(xml, 4, "prenoms", Some(&p.prenoms));
            xml_text(xml, 4, "anneeDateDeNaissance", Some(&p.annee));
            xml_text(xml, 4, "moisDateDeNaissance", Some(&p.mois));
            xml_text(xml, 4, "jourDateDeNaissance", Some(&p.jour));
            xml_text(xml, 4, "sexe", Some(p.sexe));
        };
        xml_people(
            &mut xml,
            "allocataires",
            "allocataire",
            &v2.allocataires,
            v2_person,
        );
        xml_people(&mut xml, "enfants", "enfant", &v2.enfants, v2_person);
        xml_integer(
            &mut xml,
            2,
            "quotientFamilial",
            v2.quotient_familial.map(i64::from),
        );
        xml_integer(&mut xml, 2, "annee", Some(v2.annee.into()));
        xml_integer(&mut xml, 2, "mois", Some(v2.mois.into()));
        xml_text(&mut xml, 2, "version", Some(v2.version));
        xml.push_str("  </quotient-familial>\n</hash>\n");
        xml
    }

    /// The text of `ShipmentData#to_s` (§8.5), which the PDF shows line by line.
    pub fn to_text(&self) -> String {
        let id = &self.identity;
        let mut text = format!(
            "Identifant éditeur (optionnel): {}\n\nIdentité pivot:\n",
            self.external_id.as_deref().unwrap_or("")
        );
        text.push_str(&format!(
            "  Code Insee pays de naissance: {}\n",
            id.birth_country
        ));
        text.push_str(&format!(
            "  Code Insee lieu de naissance: {}\n",
            id.birthplace.as_deref().unwrap_or("")
        ));
        text.push_str(&format!(
            "  Date de naissance: {}\n",
            french_date(id.birthdate)
        ));
        text.push_str(&format!("  Nom de naissance: {}\n", id.family_name));
        text.push_str(&format!("  Prénoms: {}\n", id.given_names));
        let sexe = match id.gender {
            Gender::Female => "F",
            Gender::Male => "M",
        };
        text.push_str(&format!("  Sexe: {sexe}\n\nQuotient familial:\n"));
        let qf = &self.quotient;
        let Some(valeur) = qf.valeur else {
            text.push_str(
                "  ERREUR: La récupération de votre quotient familial via FranceConnect n'a pas fonctionné\n",
            );
            return text;
        };
        text.push_str(&format!("  Régime: {}\n", qf.fournisseur.code()));
        text.push_str(&format!("  Année: {}\n", qf.annee));
        text.push_str(&format!("  Mois: {}\n", qf.mois));
        text.push_str(&format!("  Quotient familial: {valeur}\n\n"));
        text_people(&mut text, "Allocataires", &self.allocataires);
        text.push('\n');
        text_people(&mut text, "Enfants", &self.enfants);
        text
    }

    /// A one-page PDF (A4, Helvetica, WinAnsi like Prawn's default font) showing `to_text`,
    /// dated `submitted_at` rather than by the system clock.
    pub fn to_pdf(&self, submitted_at: Timestamp) -> Vec<u8> {
        let text = self.to_text();
        let mut ops = vec![
            Op::StartTextSection,
            Op::SetTextCursor {
                pos: Point::new(Mm(20.0), Mm(277.0)),
            },
            Op::SetFont {
                font: PdfFontHandle::Builtin(BuiltinFont::Helvetica),
                size: Pt(10.0),
            },
            Op::SetLineHeight { lh: Pt(13.0) },
        ];
        for line in text.lines() {
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(line.to_string())],
            });
            ops.push(Op::AddLineBreak);
        }
        ops.push(Op::EndTextSection);
        let title = format!("Quotient familial {}", self.reference);
        let mut document = PdfDocument::new(&title);
        if let Ok(date) = OffsetDateTime::from_unix_timestamp(submitted_at.as_second()) {
            document.metadata.info.creation_date = date;
            document.metadata.info.modification_date = date;
            document.metadata.info.metadata_date = date;
        }
        document
            .with_pages(vec![PdfPage::new(Mm(210.0), Mm(297.0), ops)])
            .save(&PdfSaveOptions::default(), &mut Vec::new())
    }

    fn shipment_data(&self) -> ShipmentData {
        let id = &self.identity;
        let qf = &self.quotient;
        ShipmentData {
            external_id: self.external_id.clone(),
            pivot_identity: PivotV3 {
                birthcountry: id.birth_country.clone(),
                birthdate: id.birthdate.to_string(),
                birthplace: id.birthplace.clone(),
                family_name: id.family_name.clone(),
                given_name: id.given_names.clone(),
                gender: match id.gender {
                    Gender::Female => "female",
                    Gender::Male => "male",
                },
            },
            quotient_familial_v3: QuotientV3 {
                allocataires: self.allocataires.iter().map(PersonV3::from).collect(),
                enfants: self.enfants.iter().map(PersonV3::from).collect(),
                quotient_familial: QuotientValueV3 {
                    fournisseur: qf.fournisseur.code(),
                    valeur: qf.valeur,
                    annee: qf.annee,
                    mois: qf.mois,
                    annee_calcul: qf.annee_calcul,
                    mois_calcul: qf.mois_calcul,
                },
                version: "v3",
            },
            quotient_familial: QuotientV2 {
                regime: qf.fournisseur.code(),
                allocataires: self.allocataires.iter().map(PersonV2::from).collect(),
                enfants: self.enfants.iter().map(PersonV2::from).collect(),
                quotient_familial: qf.valeur,
                annee: qf.annee,
                mois: qf.mois,
                version: "v2",
            },
        }
    }
}

/// `ShipmentData#to_h`; serde keeps the field order, which is the order of §8.3.
#[derive(Serialize)]
struct ShipmentData {
    external_id: Option<String>,
    pivot_identity: PivotV3,
    quotient_familial_v3: QuotientV3,
    quotient_familial: QuotientV2,
}

#[derive(Serialize)]
struct PivotV3 {
    birthcountry: String,
    birthdate: String,
    birthplace: Option<String>,
    family_name: String,
    given_name: String,
    gender: &'static str,
}

#[derive(Serialize)]
struct QuotientV3 {
    allocataires: Vec<PersonV3>,
    enfants: Vec<PersonV3>,
    quotient_familial: QuotientValueV3,
    version: &'static str,
}

#[derive(Serialize)]
struct QuotientValueV3 {
    fournisseur: &'static str,
    valeur: Option<u32>,
    annee: i16,
    mois: i8,
    annee_calcul: i16,
    mois_calcul: i8,
}

#[derive(Serialize)]
struct PersonV3 {
    nom_naissance: String,
    nom_usage: Option<String>,
    prenoms: String,
    date_naissance: String,
    sexe: &'static str,
}

impl From<&Person> for PersonV3 {
    fn from(p: &Person) -> PersonV3 {
        PersonV3 {
            nom_naissance: p.nom_naissance.clone(),
            nom_usage: p.nom_usage.clone(),
            prenoms: p.prenoms.clone(),
            date_naissance: p.date_naissance.to_string(),
            sexe: p.sexe.code(),
        }
    }
}

#[derive(Serialize)]
struct QuotientV2 {
    regime: &'static str,
    allocataires: Vec<PersonV2>,
    enfants: Vec<PersonV2>,
    #[serde(rename = "quotientFamilial")]
    quotient_familial: Option<u32>,
    annee: i16,
    mois: i8,
    version: &'static str,
}

/// The legacy person shape: date parts are strings cut out of `date_naissance`.
#[derive(Serialize)]
struct PersonV2 {
    #[serde(rename = "nomNaissance")]
    nom_naissance: String,
    #[serde(rename = "nomUsuel")]
    nom_usuel: Option<String>,
    prenoms: String,
    #[serde(rename = "anneeDateDeNaissance")]
    annee: String,
    #[serde(rename = "moisDateDeNaissance")]
    mois: String,
    #[serde(rename = "jourDateDeNaissance")]
    jour: String,
    sexe: &'static str,
}

impl From<&Person> for PersonV2 {
    fn from(p: &Person) -> PersonV2 {
        let date = p.date_naissance.to_string();
        PersonV2 {
            nom_naissance: p.nom_naissance.clone(),
            nom_usuel: p.nom_usage.clone(),
            prenoms: p.prenoms.clone(),
            annee: date[0..4].to_string(),
            mois: date[5..7].to_string(),
            jour: date[8..10].to_string(),
            sexe: p.sexe.code(),
        }
    }
}

/// `27/06/1987`, as the PDF shows dates.
fn french_date(date: Date) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

fn text_people(text: &mut String, title: &str, people: &[Person]) {
    text.push_str(&format!("  {title}:\n\n"));
    if people.is_empty() {
        text.push_str("  Aucun\n");
        return;
    }
    for (index, person) in people.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        text.push_str(&format!("  - Nom de naissance: {}\n", person.nom_naissance));
        text.push_str(&format!(
            "    Nom d'usage: {}\n",
            person.nom_usage.as_deref().unwrap_or("")
        ));
        text.push_str(&format!("    Prénoms: {}\n", person.prenoms));
        text.push_str(&format!(
            "    Date de naissance: {}\n",
            french_date(person.date_naissance)
        ));
        text.push_str(&format!("    Sexe: {}\n", person.sexe.code()));
    }
}

/// `<name>value</name>`, or `<name nil="true"/>` for a null, at `depth` levels of two spaces.
fn xml_text(xml: &mut String, depth: usize, name: &str, value: Option<&str>) {
    let indent = "  ".repeat(depth);
    match value {
        Some(value) => xml.push_str(&format!(
            "{indent}<{name}>{}</{name}>\n",
            quick_xml::escape::escape(value)
        )),
        None => xml.push_str(&format!("{indent}<{name} nil=\"true\"/>\n")),
    }
}

fn xml_integer(xml: &mut String, depth: usize, name: &str, value: Option<i64>) {
    let indent = "  ".repeat(depth);
    match value {
        Some(value) => xml.push_str(&format!(
            "{indent}<{name} type=\"integer\">{value}</{name}>\n"
        )),
        None => xml.push_str(&format!(
            "{indent}<{name} type=\"integer\" nil=\"true\"/>\n"
        )),
    }
}

/// An array under the v3 or v2 block (depth 2), its items singularised as Rails does.
fn xml_people<T>(
    xml: &mut String,
    name: &str,
    item: &str,
    people: &[T],
    mut write_person: impl FnMut(&mut String, &T),
) {
    if people.is_empty() {
        xml.push_str(&format!("    <{name} type=\"array\"/>\n"));
        return;
    }
    xml.push_str(&format!("    <{name} type=\"array\">\n"));
    for person in people {
        xml.push_str(&format!("      <{item}>\n"));
        write_person(xml, person);
        xml.push_str(&format!("      </{item}>\n"));
    }
    xml.push_str(&format!("    </{name}>\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// The MSA family of the specification's examples (§8.3–§8.5).
    fn roux() -> FormulaireQf {
        let person = |prenoms: &str, born: Date, sexe| Person {
            nom_naissance: "ROUX".into(),
            nom_usage: None,
            prenoms: prenoms.into(),
            date_naissance: born,
            sexe,
        };
        FormulaireQf {
            reference: "3F9A0C7B21D4E".into(),
            external_id: Some("INSCR-2026-000417".into()),
            identity: PivotIdentity {
                family_name: "ROUX".into(),
                usage_name: None,
                given_names: "Jeanne Stéphanie".into(),
                gender: Gender::Female,
                birthdate: date(1987, 6, 27),
                birth_country: "99100".into(),
                birthplace: Some("69123".into()),
            },
            quotient: QuotientFamilial {
                fournisseur: Regime::Msa,
                valeur: Some(150),
                annee: 2026,
                mois: 6,
                annee_calcul: 2026,
                mois_calcul: 6,
            },
            allocataires: vec![
                person("JEANNE STEPHANIE", date(1987, 6, 27), Sex::F),
                person("LOIC NATHAN", date(1979, 5, 19), Sex::M),
            ],
            enfants: vec![
                person("ALEXIS VINCENT", date(2016, 4, 20), Sex::M),
                person("FLEUR EDITH", date(2019, 9, 2), Sex::F),
            ],
        }
    }

    #[test]
    fn json_matches_the_specification_example() {
        let json = roux().to_json();
        assert!(json.starts_with(
            r#"{"external_id":"INSCR-2026-000417","pivot_identity":{"birthcountry":"99100","birthdate":"1987-06-27","birthplace":"69123","family_name":"ROUX","given_name":"Jeanne Stéphanie","gender":"female"},"quotient_familial_v3":{"allocataires":[{"nom_naissance":"ROUX","nom_usage":null,"prenoms":"JEANNE STEPHANIE","date_naissance":"1987-06-27","sexe":"F"}"#
        ));
        assert!(json.contains(
            r#""quotient_familial":{"fournisseur":"MSA","valeur":150,"annee":2026,"mois":6,"annee_calcul":2026,"mois_calcul":6},"version":"v3"}"#
        ));
        assert!(json.contains(
            r#"{"nomNaissance":"ROUX","nomUsuel":null,"prenoms":"FLEUR EDITH","anneeDateDeNaissance":"2019","moisDateDeNaissance":"09","jourDateDeNaissance":"02","sexe":"F"}],"quotientFamilial":150,"annee":2026,"mois":6,"version":"v2"}}"#
        ));
    }

    #[test]
    fn xml_follows_rails_to_xml() {
        let xml = roux().to_xml();
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hash>\n  <external-id>INSCR-2026-000417</external-id>\n  <pivot-identity>\n    <birthcountry>99100</birthcountry>\n"
        ));
        assert!(xml.contains(
            "  <quotient-familial-v3>\n    <allocataires type=\"array\">\n      <allocataire>\n        <nom-naissance>ROUX</nom-naissance>\n        <nom-usage nil=\"true\"/>\n"
        ));
        assert!(xml.contains("      <valeur type=\"integer\">150</valeur>\n"));
        assert!(xml.contains("        <nomUsuel nil=\"true\"/>\n"));
        assert!(xml.contains("    <quotientFamilial type=\"integer\">150</quotientFamilial>\n"));
        assert!(xml.ends_with("    <version>v2</version>\n  </quotient-familial>\n</hash>\n"));
        let mut childless = roux();
        childless.enfants.clear();
        assert!(childless
            .to_xml()
            .contains("    <enfants type=\"array\"/>\n"));
    }

    #[test]
    fn text_follows_shipment_data_to_s() {
        let text = roux().to_text();
        assert!(text.starts_with(
            "Identifant éditeur (optionnel): INSCR-2026-000417\n\nIdentité pivot:\n  Code Insee pays de naissance: 99100\n  Code Insee lieu de naissance: 69123\n  Date de naissance: 27/06/1987\n  Nom de naissance: ROUX\n  Prénoms: Jeanne Stéphanie\n  Sexe: F\n\nQuotient familial:\n  Régime: MSA\n  Année: 2026\n  Mois: 6\n  Quotient familial: 150\n\n  Allocataires:\n\n  - Nom de naissance: ROUX\n    Nom d'usage: \n    Prénoms: JEANNE STEPHANIE\n"
        ));
        let mut lost = roux();
        lost.quotient.valeur = None;
        assert!(lost.to_text().ends_with(
            "Quotient familial:\n  ERREUR: La récupération de votre quotient familial via FranceConnect n'a pas fonctionné\n"
        ));
    }

    #[test]
    fn pdf_is_named_after_the_person_and_is_a_pdf() {
        let family = roux();
        assert_eq!(
            family.pdf_file_name(),
            "quotient_familial_ROUX_Jeanne_Stéphanie.pdf"
        );
        let submitted_at = Timestamp::from_second(1_795_000_000).unwrap();
        let pdf = family.to_pdf(submitted_at);
        let dated = b"/CreationDate(D:20261118110640";
        assert!(
            pdf.windows(dated.len()).any(|w| w == dated),
            "dated by the argument"
        );
        assert!(pdf.starts_with(b"%PDF"));
        assert!(pdf.len() < 20_000, "{} bytes", pdf.len());
        let parsed =
            PdfDocument::parse(&pdf, &printpdf::PdfParseOptions::default(), &mut Vec::new())
                .unwrap();
        let text = parsed.extract_text().concat().join("\n");
        assert!(text.contains("Prénoms: Jeanne Stéphanie"), "{text}");
        assert!(text.contains("Régime: MSA"), "{text}");
        assert!(text.contains("Nom d'usage:"), "{text}");
    }
}
