// Journal: the access journal the law requires (who looked at a family's
// data, when, why), with filters by agent, action, commune and dates, the
// integrity check of its hash chain, and the CSV export for the DPO
// (administrators only: the file holds personal data).

import { journalExport, journalList, journalVerify } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, scrollRegion, setText, statusRegion } from "../dom.js";
import { report } from "../errors.js";
import { JOURNAL_ACTION_LABELS, formatDateTimeSeconds } from "../format.js";

/** @typedef {import("./shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/JournalFilter").JournalFilter} JournalFilter */
/** @typedef {import("../bindings/JournalRow").JournalRow} JournalRow */
/** @typedef {import("../bindings/JournalAction").JournalAction} JournalAction */

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A labelled <select> whose first option means "no filter".
 * @param {string} id
 * @param {string} label
 * @param {string} anyLabel
 */
function selectField(id, label, anyLabel) {
  const select = h("select", { id, name: id }, h("option", { value: "" }, anyLabel));
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), select);
  return { wrapper, select };
}

/**
 * A labelled date field. The web view shows its calendar; one that cannot
 * falls back to a text field, and then a hint says how to type the date.
 * @param {string} id
 * @param {string} label
 */
function dayField(id, label) {
  const hintId = `${id}-hint`;
  const input = h("input", { id, name: id, type: "date" });
  const typed = input.type !== "date";
  if (typed) {
    input.setAttribute("aria-describedby", hintId);
    input.classList.add("input-short");
  }
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    typed ? h("p", { class: "hint", id: hintId }, "Format : AAAA-MM-JJ (par exemple 2026-01-31)") : null,
    input,
  );
  return { wrapper, input };
}

/**
 * @param {HTMLSelectElement} select
 * @param {{ value: string, label: string }[]} options
 */
function fillOptions(select, options) {
  const current = select.value;
  const first = select.options[0];
  select.replaceChildren(first, ...options.map((option) => h("option", { value: option.value }, option.label)));
  select.value = options.some((option) => option.value === current) ? current : "";
}

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderJournal(main, context) {
  const heading = h("h1", { id: "view-heading" }, "Journal des accès");
  const status = statusRegion("journal-status");
  const error = alertRegion("journal-error");
  const verifyResult = statusRegion("journal-verify-result");
  const verifyAlert = alertRegion("journal-verify-alert");

  const agent = selectField("journal-filter-agent", "Agent", "Tous les agents");
  const action = selectField("journal-filter-action", "Action", "Toutes les actions");
  fillOptions(
    action.select,
    Object.entries(JOURNAL_ACTION_LABELS).map(([value, label]) => ({ value, label })),
  );
  const communes = context.communes();
  const commune = communes.length > 1 ? selectField("journal-filter-commune", "Commune", "Toutes les communes") : null;
  if (commune) {
    fillOptions(
      commune.select,
      communes.map((c) => ({ value: String(c.id), label: c.name })),
    );
  }
  const from = dayField("journal-filter-from", "Du");
  const to = dayField("journal-filter-to", "Au (inclus)");
  const apply = h("button", { type: "submit", class: "button", id: "journal-filter-apply" }, "Afficher");
  const reset = h("button", { type: "button", class: "button secondary", id: "journal-filter-reset" }, "Effacer les filtres");
  const filters = h(
    "form",
    { class: "form filters", id: "journal-filters", role: "search", "aria-labelledby": "journal-filters-heading", novalidate: true },
    agent.wrapper,
    action.wrapper,
    commune ? commune.wrapper : null,
    from.wrapper,
    to.wrapper,
    h("div", { class: "actions" }, apply, reset),
  );

  const count = h("p", { id: "journal-count" });
  const list = h("div", { id: "journal-list", ...scrollRegion("Lignes du journal des accès") }, h("p", {}, "Chargement du journal…"));
  const more = h("button", { type: "button", class: "button secondary", id: "journal-more" }, "Afficher les lignes plus anciennes");
  const moreSlot = h("div", { class: "actions" });

  const verify = h("button", { type: "button", class: "button secondary", id: "journal-verify" }, "Vérifier l'intégrité");
  const exportButton = context.isAdmin
    ? h("button", { type: "button", class: "button", id: "journal-export" }, "Exporter (CSV)")
    : null;

  /** @type {JournalRow[]} */
  let rows = [];
  /** @type {JournalFilter} */
  let applied = emptyFilter();

  /** @returns {JournalFilter} */
  function emptyFilter() {
    return { agent: null, action: null, commune_id: null, from: null, to: null, before_id: null };
  }

  /**
   * Reads the filter fields; flags the first wrong date and returns null.
   * @returns {JournalFilter | null}
   */
  function readFilter() {
    clearInvalid(filters);
    for (const field of [from.input, to.input]) {
      const value = field.value.trim();
      if (value !== "" && !DAY.test(value)) {
        announce(error, `La date « ${value} » n'est pas comprise : écrivez-la AAAA-MM-JJ (par exemple 2026-01-31).`);
        flagInvalid(field, error);
        return null;
      }
    }
    if (from.input.value && to.input.value && from.input.value > to.input.value) {
      announce(error, "La date de début est après la date de fin.");
      flagInvalid(from.input, error);
      return null;
    }
    return {
      agent: agent.select.value || null,
      action: /** @type {JournalAction | null} */ (action.select.value || null),
      commune_id: commune && commune.select.value ? Number(commune.select.value) : null,
      from: from.input.value || null,
      to: to.input.value || null,
      before_id: null,
    };
  }

  /**
   * @param {JournalFilter} filter
   * @param {boolean} append the next page, after the rows already shown
   */
  async function load(filter, append) {
    clearRegion(error);
    try {
      const page = await journalList(filter);
      rows = append ? rows.concat(page.rows) : page.rows;
      fillOptions(
        agent.select,
        page.agents.map((name) => ({ value: name, label: name })),
      );
      drawList();
      if (page.more) {
        moreSlot.replaceChildren(more);
      } else {
        moreSlot.replaceChildren();
      }
    } catch (reason) {
      report(reason, error);
    }
  }

  function drawList() {
    setText(count,
      rows.length === 0 ? "" : `${rows.length} ligne${rows.length > 1 ? "s" : ""} affichée${rows.length > 1 ? "s" : ""}, de la plus récente à la plus ancienne.`);
    if (rows.length === 0) {
      list.replaceChildren(h("p", {}, "Aucune ligne ne correspond à ces filtres."));
      return;
    }
    list.replaceChildren(
      h(
        "table",
        { class: "table", id: "journal-table" },
        h("caption", { class: "visually-hidden" }, "Journal des accès, de la plus récente à la plus ancienne"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Date et heure"),
            h("th", { scope: "col" }, "Agent"),
            h("th", { scope: "col" }, "Action"),
            h("th", { scope: "col" }, "Commune"),
            h("th", { scope: "col" }, "Référence"),
            h("th", { scope: "col" }, "Motif"),
            h("th", { scope: "col" }, "Statut HTTP"),
            h("th", { scope: "col" }, "Code d'erreur"),
            h("th", { scope: "col" }, "Identifiant de requête"),
          ),
        ),
        h("tbody", {}, rows.map(row)),
      ),
    );
  }

  /** @param {string | number | null} value */
  const cell = (value) => (value === null || value === "" ? h("span", { class: "visually-hidden" }, "aucun") : String(value));

  /** @param {JournalRow} entry */
  function row(entry) {
    return h(
      "tr",
      { "data-journal-id": String(entry.id) },
      h("th", { scope: "row" }, formatDateTimeSeconds(entry.at)),
      h("td", {}, entry.agent),
      h(
        "td",
        {},
        JOURNAL_ACTION_LABELS[entry.action] ?? entry.action,
        entry.detail ? h("p", { class: "hint" }, entry.detail) : null,
      ),
      h("td", {}, cell(entry.commune_name)),
      h("td", { class: "mono" }, cell(entry.reference)),
      h("td", {}, cell(entry.motif)),
      h("td", { class: "number" }, cell(entry.http_status)),
      h("td", { class: "mono" }, cell(entry.api_code)),
      h("td", { class: "mono hash" }, cell(entry.request_id)),
    );
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    once(filters, async () => {
      clearRegion(error);
      const filter = readFilter();
      if (!filter) {
        return;
      }
      applied = filter;
      await load(applied, false);
      announce(status, rows.length === 0 ? "Aucune ligne ne correspond à ces filtres." : count.textContent ?? "");
    });
  });

  reset.addEventListener("click", () => {
    once(reset, async () => {
      filters.reset();
      clearInvalid(filters);
      applied = emptyFilter();
      await load(applied, false);
      announce(status, "Les filtres sont effacés : tout le journal est affiché.");
    });
  });

  more.addEventListener("click", () => {
    once(more, async () => {
      const shown = rows.length;
      const last = rows[rows.length - 1];
      await load({ ...applied, before_id: last ? last.id : null }, true);
      // Focus goes to the first new row, so that keyboard users continue reading there.
      const next = list.querySelectorAll("tbody tr")[shown];
      const target = next ? next.querySelector("th") : null;
      if (target) {
        target.setAttribute("tabindex", "-1");
        target.focus();
      }
    });
  });

  verify.addEventListener("click", () => {
    once(verify, async () => {
      clearRegion(verifyResult);
      clearRegion(verifyAlert);
      try {
        const outcome = await journalVerify();
        if (outcome.intact) {
          const message =
            outcome.rows === 0
              ? "Le journal est intact : il ne contient encore aucune ligne."
              : `Le journal est intact : ${outcome.rows} ligne${outcome.rows > 1 ? "s" : ""} vérifiée${outcome.rows > 1 ? "s" : ""} (n° ${outcome.first_id} à ${outcome.last_id}). Empreinte de la dernière ligne : ${outcome.head_hash}`;
          announce(verifyResult, message);
        } else {
          announce(
            verifyAlert,
            `Le journal a été altéré à la ligne ${outcome.broken_row} : ${outcome.reason} Prévenez le délégué à la protection des données et ne supprimez rien.`,
          );
        }
      } catch (reason) {
        report(reason, verifyAlert);
      }
    });
  });

  if (exportButton) {
    exportButton.addEventListener("click", () => {
      once(exportButton, async () => {
        clearRegion(error);
        const filter = readFilter();
        if (!filter) {
          return;
        }
        const confirmed = await confirmAction({
          title: "Exporter le journal des accès ?",
          message: [
            "Le fichier contiendra les lignes qui correspondent aux filtres choisis. Il sera enregistré dans votre dossier Documents.",
            "Il contient des données personnelles : transmettez-le seulement au délégué à la protection des données ou à un contrôleur, par un moyen sûr, puis supprimez-le. L'export est lui-même inscrit au journal.",
          ],
          confirmLabel: "Exporter",
        });
        if (!confirmed) {
          return;
        }
        try {
          const exported = await journalExport(filter);
          announce(
            status,
            `Journal exporté : ${exported.rows} ligne${exported.rows > 1 ? "s" : ""} dans le fichier ${exported.path}. Ce fichier contient des données personnelles : supprimez-le une fois transmis.`,
          );
        } catch (reason) {
          report(reason, error);
          return;
        }
        await load(applied, false);
      });
    });
  }

  main.replaceChildren(
    heading,
    h(
      "p",
      { class: "intro" },
      "Chaque consultation du quotient familial, chaque dossier ouvert, chaque export et chaque impression est inscrit ici : par qui, quand, pour quelle commune et pour quel motif. Le journal est conservé au moins 36 mois et ne peut pas être modifié.",
    ),
    h("h2", { id: "journal-filters-heading" }, "Filtrer"),
    filters,
    h(
      "div",
      { class: "actions" },
      exportButton,
      verify,
    ),
    context.isAdmin ? null : h("p", { class: "note" }, "Seul un administrateur peut exporter le journal."),
    status,
    error,
    verifyResult,
    verifyAlert,
    count,
    list,
    moreSlot,
  );
  load(applied, false);
  return heading;
}
