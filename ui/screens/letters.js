// Lettres personnelles: a letter per family the commune cannot price (no QF,
// or only an old one), each with a QR code of its own. The dossier a family
// sends through its code is attached to its family file by itself. The agent
// picks the month before which a QF counts as old, sees the families, may
// untick some, sees the first letter as it will be printed (drawn by the
// backend from the PDF), then opens or saves the mailing. Every mailing is
// written to the access journal by the backend, with its number of letters.

import { lettersOpen, lettersPreview, lettersRecipients, lettersSaveAs } from "../api.js";
import { alertRegion, announce, clearRegion, h, scrollRegion, setText, statusRegion } from "../dom.js";
import { report } from "../errors.js";
import { fileButton } from "../files.js";
import { formatMonth, formatSize } from "../format.js";

/** @typedef {import("../bindings/LetterRecipient").LetterRecipient} LetterRecipient */
/** @typedef {import("../bindings/LetterSelection").LetterSelection} LetterSelection */
/** @typedef {import("../bindings/Printed").Printed} Printed */

/** How many months back a QF still counts as recent, by default. */
const RECENT_MONTHS = 12;
/** How far back the agent may set the limit. */
const CHOICE_MONTHS = 36;

/**
 * The months the agent may choose, newest first: `[year, month]`.
 * @returns {[number, number][]}
 */
function recentMonths() {
  const today = new Date();
  /** @type {[number, number][]} */
  const months = [];
  for (let back = 0; back < CHOICE_MONTHS; back++) {
    const first = new Date(today.getFullYear(), today.getMonth() - back, 1);
    months.push([first.getFullYear(), first.getMonth() + 1]);
  }
  return months;
}

/**
 * The panel, for the Familles screen.
 * @param {{ id: number, name: string }} commune
 * @returns {HTMLElement}
 */
export function lettersPanel(commune) {
  const communeId = commune.id;
  const error = alertRegion("letters-error");
  const status = statusRegion("letters-status");

  // A select rather than <input type="month">, which WebKitGTK shows as a bare text field.
  const since = h(
    "select",
    { id: "letters-since", name: "letters-since", "aria-describedby": "letters-since-hint" },
    recentMonths().map(([year, month], index) =>
      h("option", { value: `${year}-${month}`, selected: index === RECENT_MONTHS - 1 }, formatMonth(year, month)),
    ),
  );
  const listButton = h("button", { type: "submit", class: "button secondary", id: "letters-list" }, "Afficher les familles");
  const form = h(
    "form",
    { class: "form letters-form", id: "letters-form", novalidate: true },
    h(
      "div",
      { class: "field" },
      h("label", { for: "letters-since" }, "Familles sans quotient familial depuis"),
      h("p", { class: "hint", id: "letters-since-hint" }, "Les familles sans QF, ou dont le dernier QF est d'un mois antérieur à celui-ci."),
      since,
    ),
    h("div", { class: "actions" }, listButton),
  );

  const count = h("p", { id: "letters-count", class: "letters-count", role: "status" });
  const body = h("tbody", { id: "letters-rows" });
  const table = h(
    "table",
    { class: "table letters-table", hidden: true },
    h("caption", { class: "visually-hidden" }, "Familles qui recevront une lettre"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Lettre"), h("th", { scope: "col" }, "Famille"), h("th", { scope: "col" }, "Dernier QF connu"))),
    body,
  );

  const image = h("img", { id: "letters-preview-image", alt: "", hidden: true });
  const caption = h("figcaption", { id: "letters-preview-caption" }, "L'aperçu de la première lettre apparaîtra ici.");
  const preview = h("figure", { id: "letters-preview", class: "poster-preview", "aria-busy": "false" }, image, caption);

  const openButton = h("button", { type: "button", class: "button", id: "letters-open", disabled: true }, "Ouvrir le PDF / Imprimer");
  const saveAsButton = h("button", { type: "button", class: "button secondary", id: "letters-save-as", disabled: true }, "Enregistrer sous…");

  // Shown once the families are listed: there is nothing to print before.
  const printing = h(
    "div",
    { class: "poster-layout", id: "letters-printing", hidden: true },
    h("div", { class: "poster-side" }, h("div", { class: "actions" }, openButton, saveAsButton), status),
    preview,
  );

  const panel = h(
    "section",
    { class: "letters", id: "letters", "aria-labelledby": "letters-heading" },
    h("h2", { id: "letters-heading" }, "Lettres personnelles"),
    h(
      "p",
      { class: "intro" },
      "Une lettre par famille, avec un QR code qui lui est propre : le quotient familial que la famille envoie avec ce QR code est rattaché tout seul à son dossier famille. Le code ne révèle rien de la famille.",
    ),
    form,
    error,
    count,
    h("div", scrollRegion("Familles qui recevront une lettre"), table),
    printing,
  );

  /** @type {LetterRecipient[]} */
  let recipients = [];

  /** @returns {number[]} the ticked families, in the list's order */
  function ticked() {
    return [...body.querySelectorAll("input[type=checkbox]:checked")].map((box) => Number(/** @type {HTMLInputElement} */ (box).value));
  }

  /** @returns {LetterSelection} */
  function selection() {
    return { kind: "families", ids: ticked() };
  }

  function showCount() {
    const chosen = ticked().length;
    setText(count,
      recipients.length === 0
        ? "Aucune famille sans quotient familial récent : il n'y a pas de lettre à imprimer."
        : `${chosen} lettre${chosen > 1 ? "s" : ""} sur ${recipients.length} famille${recipients.length > 1 ? "s" : ""} sans quotient familial récent.`);
    openButton.disabled = chosen === 0;
    saveAsButton.disabled = chosen === 0;
  }

  let previewTicket = 0;
  async function refreshPreview() {
    const ticket = ++previewTicket;
    const chosen = ticked();
    if (chosen.length === 0) {
      image.hidden = true;
      setText(caption, "Cochez au moins une famille pour voir sa lettre.");
      return;
    }
    preview.setAttribute("aria-busy", "true");
    try {
      const drawn = await lettersPreview(communeId, { kind: "families", ids: chosen.slice(0, 1) });
      if (ticket !== previewTicket) {
        return;
      }
      image.src = drawn.image;
      image.width = Math.round(drawn.width / 2);
      image.height = Math.round(drawn.height / 2);
      const first = recipients.find((r) => r.family_id === chosen[0]);
      image.alt = `Aperçu de la lettre à la famille ${first?.name ?? ""}`;
      image.hidden = false;
      setText(caption, "Aperçu de la première lettre, telle qu'elle sera imprimée. Les autres ne changent que par le nom, le dernier QF connu et le QR code.");
    } catch (reason) {
      if (ticket === previewTicket) {
        report(reason, error);
      }
    } finally {
      if (ticket === previewTicket) {
        preview.setAttribute("aria-busy", "false");
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearRegion(error);
    clearRegion(status);
    const [year, month] = since.value.split("-").map(Number);
    try {
      recipients = await lettersRecipients(communeId, { kind: "without_qf_since", annee: year, mois: month });
      body.replaceChildren(
        ...recipients.map((r) => {
          const box = h("input", { type: "checkbox", id: `letters-family-${r.family_id}`, value: String(r.family_id), "aria-label": `Lettre à la famille ${r.name}` });
          box.checked = true;
          box.addEventListener("change", () => {
            showCount();
            refreshPreview();
          });
          return h(
            "tr",
            {},
            h("td", {}, box),
            h("td", {}, h("label", { for: box.id }, r.name || "Famille sans nom")),
            h("td", {}, r.last_qf ? formatMonth(r.last_qf[0], r.last_qf[1]) : "aucun"),
          );
        }),
      );
      table.hidden = recipients.length === 0;
      printing.hidden = recipients.length === 0;
      showCount();
      await refreshPreview();
    } catch (reason) {
      report(reason, error);
    }
  });

  fileButton(openButton, { error, status, action: () => lettersOpen(communeId, selection()), done: (p) => `Le PDF des lettres est ouvert dans le lecteur de PDF : imprimez-le depuis celui-ci. L'impression est inscrite au journal.` });
  fileButton(saveAsButton, { error, status, action: () => lettersSaveAs(communeId, selection()), done: (p) => `Le PDF des lettres est enregistré dans « ${p.path} » (${formatSize(p.bytes)}).` });

  return panel;
}
