// Exporter pour la facturation: the commune's families as a CSV file for the
// billing tool. The agent picks the preset (a French spreadsheet, or plain CSV
// for an import tool) and the columns; the backend writes the file, journals
// the export with its number of families, and gives back the personal-data
// warning, which is shown with the result.

import { familiesExport, familiesExportAs, familiesExportColumns } from "../api.js";
import { alertRegion, announce, h, radioGroup, statusRegion } from "../dom.js";
import { report } from "../errors.js";
import { fileButton } from "../files.js";
import { formatSize } from "../format.js";

/** @typedef {import("../bindings/ExportColumn").ExportColumn} ExportColumn */
/** @typedef {import("../bindings/ExportPreset").ExportPreset} ExportPreset */
/** @typedef {import("../bindings/FamiliesExport").FamiliesExport} FamiliesExport */

/**
 * The panel, for the Familles screen.
 * @param {{ id: number, name: string }} commune
 * @returns {HTMLElement}
 */
export function exportPanel(commune) {
  const error = alertRegion("export-error");
  const status = statusRegion("export-status");
  const preset = radioGroup({
    idPrefix: "export-preset",
    name: "export-preset",
    legend: "Format du fichier",
    options: [
      { value: "excel-fr", label: "Excel (France)", hint: "S'ouvre directement dans Excel ou LibreOffice : accents, séparateur « ; », dates JJ/MM/AAAA." },
      { value: "csv", label: "CSV standard", hint: "Pour un logiciel de facturation qui importe du CSV : séparateur « , », dates AAAA-MM-JJ." },
    ],
    checked: "excel-fr",
  });
  const columns = h("fieldset", { class: "export-columns", id: "export-columns" }, h("legend", {}, "Colonnes"), h("p", {}, "Chargement…"));
  const save = h("button", { type: "button", class: "button", id: "export-save" }, "Enregistrer dans Documents");
  const saveAs = h("button", { type: "button", class: "button secondary", id: "export-save-as" }, "Enregistrer sous…");

  /** @returns {ExportColumn[]} the ticked columns, in the list's order */
  function ticked() {
    return [...columns.querySelectorAll("input[type=checkbox]:checked")].map((box) => /** @type {ExportColumn} */ (/** @type {HTMLInputElement} */ (box).value));
  }

  function check() {
    if (ticked().length === 0) {
      announce(error, "Cochez au moins une colonne à exporter.");
      return false;
    }
    return true;
  }

  /** @param {FamiliesExport} made */
  const done = (made) => `${made.rows} famille${made.rows > 1 ? "s" : ""} exportée${made.rows > 1 ? "s" : ""} dans « ${made.path} » (${formatSize(made.bytes)}). ${made.warning}`;
  const chosenPreset = () => /** @type {ExportPreset} */ (preset.value());
  fileButton(save, { error, status, check, action: () => familiesExport(commune.id, chosenPreset(), ticked()), done });
  fileButton(saveAs, { error, status, check, action: () => familiesExportAs(commune.id, chosenPreset(), ticked()), done });

  familiesExportColumns()
    .then((choices) => {
      columns.replaceChildren(
        h("legend", {}, "Colonnes"),
        ...choices.map((choice) => {
          const id = `export-column-${choice.column}`;
          const box = h("input", { type: "checkbox", id, value: choice.column });
          box.checked = true;
          return h("div", { class: "field checkbox" }, box, h("label", { for: id }, choice.header));
        }),
      );
    })
    .catch((reason) => report(reason, error));

  return h(
    "section",
    { class: "export", id: "export", "aria-labelledby": "export-heading" },
    h("h2", { id: "export-heading" }, "Exporter pour la facturation"),
    h("p", { class: "intro" }, `Les familles de ${commune.name} dans un fichier pour le logiciel de facturation, avec leur dernier quotient familial. Chaque export est inscrit au journal des accès.`),
    h("p", { class: "note" }, "Le fichier contient des données personnelles : gardez-le dans un dossier protégé et supprimez-le une fois importé."),
    preset.fieldset,
    columns,
    h("div", { class: "actions" }, save, saveAs),
    error,
    status,
  );
}
