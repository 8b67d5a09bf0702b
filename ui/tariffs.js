// What a QF costs a family: the block shown wherever a QF is shown (a dossier,
// the counter's answer, a family's file), and the money formats the tariff
// screen shares. The backend prices (brackets, taux d'effort, default tariff
// for an unknown QF, gaps); this module only lays the answer out.

import { alertRegion, h } from "./dom.js";
import { report } from "./errors.js";

/** @typedef {import("./bindings/FamilyTariff").FamilyTariff} FamilyTariff */

const euroFormat = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR", minimumFractionDigits: 2 });

/**
 * "3,50 €" from 350 cents.
 * @param {number} cents
 */
export function formatCents(cents) {
  return euroFormat.format(cents / 100);
}

/**
 * Cents from what the agent typed ("3,50", "3.5", "3 €", "12"), or null when it
 * is not an amount in euros with at most two decimals. A minus sign is kept so
 * that the backend's French message about negative prices is the one shown.
 * @param {string} text
 * @returns {number | null}
 */
export function parseEuros(text) {
  const match = /^(-?)(\d{1,6})(?:[.,](\d{1,2}))?$/.exec(text.replace(/[\s€]/g, ""));
  if (!match) {
    return null;
  }
  const cents = Number(match[2]) * 100 + Number((match[3] ?? "0").padEnd(2, "0"));
  return match[1] === "-" ? -cents : cents;
}

/**
 * "3,50" for an amount field, "" for none.
 * @param {number | null} cents
 */
export function eurosInput(cents) {
  return cents === null ? "" : (cents / 100).toFixed(2).replace(".", ",");
}

/**
 * The "Tarifs" block of a QF: one line per service priced today, filled when
 * `load` answers. Nothing configured says where grids are entered; a failure
 * stays inside the block, since the QF around it is still right.
 * @param {string} id the block's id ("dossier-tariffs"…)
 * @param {() => Promise<FamilyTariff[]>} load
 * @param {string} [title]
 * @returns {HTMLElement}
 */
export function tariffsBlock(id, load, title = "Tarifs selon ce quotient familial") {
  const headingId = `${id}-heading`;
  const body = h("p", { class: "hint" }, "Calcul des tarifs…");
  const error = alertRegion(`${id}-error`);
  const block = h(
    "section",
    { class: "tariffs", id, "aria-labelledby": headingId, "aria-busy": "true" },
    h("h3", { id: headingId }, title),
    body,
    error,
  );
  load()
    .then((tariffs) => {
      block.removeAttribute("aria-busy");
      if (tariffs.length === 0) {
        body.replaceWith(h("p", { class: "hint" }, "Aucune grille tarifaire n'est valable aujourd'hui. Un administrateur les saisit dans « Tarifs »."));
        return;
      }
      body.replaceWith(
        h(
          "table",
          { class: "table tariffs-table" },
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, "Service"),
            h("th", { scope: "col" }, "Tranche"),
            h("th", { scope: "col", class: "number" }, "Tarif"))),
          h("tbody", {}, tariffs.map((t) => h(
            "tr",
            { "data-service": t.service, "data-basis": t.priced.basis.kind },
            h("th", { scope: "row" }, t.service),
            h("td", {}, t.priced.label),
            h("td", { class: "number" }, `${formatCents(t.priced.price_cents)} par ${t.priced.unit}`),
          ))),
        ),
      );
    })
    .catch((reason) => {
      block.removeAttribute("aria-busy");
      body.remove();
      report(reason, error);
    });
  return block;
}
