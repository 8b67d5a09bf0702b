// Dossiers: the inbox of the dossiers families sent through the national form.
// The list (search, status filter, a family's dossiers together), the relevé
// Hubee panel ("Dernier relevé…", "Relever maintenant", progress), and the
// detail of a dossier with its files and the "Traité" / "Refusé" decisions.

import { dossierDecide, dossierFileOpen, dossierOpen, inboxSearch, qfTariffs, syncNow } from "../api.js";
import { confirmAction, openModal } from "../dialogs.js";
import { alertRegion, announce, clearRegion, focusHeading, h, once, scrollRegion, setText, statusRegion, uniqueId } from "../dom.js";
import { report } from "../errors.js";
import {
  formatBirthDate,
  formatDateTime,
  formatMonth,
  formatQuotient,
  formatSize,
  STATUT_LABELS,
  STATUTS,
} from "../format.js";
import { loadSyncStates, watchSync } from "../sync.js";
import { tariffsBlock } from "../tariffs.js";

/** @typedef {import("./shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/InboxRow").InboxRow} InboxRow */
/** @typedef {import("../bindings/DossierDetail").DossierDetail} DossierDetail */
/** @typedef {import("../bindings/Personne").Personne} Personne */
/** @typedef {import("../bindings/SyncState").SyncState} SyncState */
/** @typedef {import("../bindings/Statut").Statut} Statut */

// Kept for the life of the window, like the current view: back from a
// dossier, the agent finds the list as they left it.
let searchText = "";
/** @type {Statut | ""} */
let statutFilter = "";

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderInbox(main, context) {
  const commune = context.currentCommune();
  const heading = h("h1", { id: "view-heading" }, "Dossiers");
  if (!commune) {
    main.replaceChildren(
      heading,
      h("div", { class: "empty-state" }, h("p", {}, "Aucune commune n'est configurée : ajoutez-en une dans Paramètres.")),
    );
    return heading;
  }

  const syncPanel = syncSection(commune.id, context);
  const error = alertRegion("inbox-error");
  // A plain live line rather than a status box: the count changes at every keystroke.
  const count = h("p", { id: "inbox-count", class: "inbox-count", role: "status", "aria-live": "polite" });
  const results = h("div", { id: "inbox-results" });

  const search = h("input", {
    id: "inbox-search",
    type: "search",
    class: "input-search",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "inbox-search-hint",
    value: searchText,
  });
  const statut = h(
    "select",
    { id: "inbox-statut" },
    h("option", { value: "" }, "Tous les statuts"),
    STATUTS.map((value) => {
      const option = h("option", { value }, STATUT_LABELS[value]);
      option.selected = value === statutFilter;
      return option;
    }),
  );
  const filters = h(
    "form",
    { class: "inbox-filters", role: "search", "aria-label": "Rechercher un dossier" },
    h(
      "div",
      { class: "field" },
      h("label", { for: "inbox-search" }, "Rechercher"),
      h("p", { class: "hint", id: "inbox-search-hint" }, "Nom ou prénom (avec ou sans accents), référence de la démarche (13 caractères) ou identifiant."),
      search,
    ),
    h("div", { class: "field" }, h("label", { for: "inbox-statut" }, "Statut"), statut),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });

  /** @type {number | undefined} */
  let typing;
  search.addEventListener("input", () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(refresh, 250);
  });
  statut.addEventListener("change", refresh);

  const list = h("div", { id: "inbox-list" }, filters, count, error, results);
  const view = h("div", { class: "inbox" }, list);
  main.replaceChildren(heading, h("p", { class: "view-commune" }, `Commune : ${commune.name}`), syncPanel.element, view);

  let generation = 0;
  async function refresh() {
    searchText = search.value;
    statutFilter = /** @type {Statut | ""} */ (statut.value);
    const asked = ++generation;
    try {
      const page = await inboxSearch({
        commune_id: /** @type {number} */ (commune?.id),
        text: searchText,
        statut: statutFilter === "" ? null : statutFilter,
      });
      // An older answer arriving after a newer one is dropped.
      if (asked !== generation) {
        return;
      }
      clearRegion(error);
      // The list is drawn again after every relevé: a keyboard user whose
      // focus was on a dossier keeps it there instead of losing it to the page.
      const focused = document.activeElement;
      const focusedId = focused instanceof HTMLElement && results.contains(focused) ? focused.dataset.dossierId : undefined;
      results.replaceChildren(table(page.rows));
      if (focusedId) {
        /** @type {HTMLElement | null} */ (results.querySelector(`[data-dossier-id="${focusedId}"]`))?.focus();
      }
      const shown = page.rows.length;
      const filtered = searchText.trim() !== "" || statutFilter !== "";
      let text = shown === 0
        ? (filtered ? "Aucun dossier ne correspond à la recherche." : "Aucun dossier reçu pour l'instant.")
        : `${page.total} dossier${page.total > 1 ? "s" : ""}${filtered ? " trouvé" + (page.total > 1 ? "s" : "") : ""}`;
      if (shown < page.total) {
        text += ` (les ${shown} plus récents sont affichés : précisez la recherche)`;
      }
      setText(count, text + ".");
    } catch (reason) {
      report(reason, error);
    }
  }

  /** @param {InboxRow[]} rows */
  function table(rows) {
    if (rows.length === 0) {
      return h("div", {});
    }
    return h(
      "div",
      scrollRegion("Liste des dossiers"),
      h(
        "table",
        { class: "table inbox-table", id: "inbox-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Reçu le"),
            h("th", { scope: "col" }, "Famille"),
            h("th", { scope: "col", class: "number" }, "QF"),
            h("th", { scope: "col", class: "number" }, "Enfants"),
            h("th", { scope: "col" }, "Statut"),
            h("th", { scope: "col" }, "Référence"),
          ),
        ),
        h("tbody", {}, rows.map(row)),
      ),
    );
  }

  /** @param {InboxRow} dossier */
  function row(dossier) {
    const name = familyName(dossier);
    const open = h(
      "button",
      { type: "button", class: "link-button", "data-dossier-id": String(dossier.id) },
      name,
    );
    open.addEventListener("click", () => showDetail(dossier.id));
    const follows = dossier.famille_rang > 0;
    return h(
      "tr",
      { id: `dossier-row-${dossier.id}`, class: follows ? "family-follow" : null, "data-statut": dossier.statut },
      h("td", {}, formatDateTime(dossier.recu_le)),
      h(
        "th",
        { scope: "row" },
        follows ? h("span", { class: "family-mark" }, "Envoi précédent de la même famille : ") : null,
        open,
        !follows && dossier.famille_taille > 1
          ? h("span", { class: "tag" }, `${dossier.famille_taille} envois`)
          : null,
      ),
      h("td", { class: "number" }, formatQuotient(dossier.quotient)),
      h("td", { class: "number" }, dossier.nb_enfants === null ? "—" : String(dossier.nb_enfants)),
      h("td", {}, statutTag(dossier.statut)),
      h("td", { class: "mono" }, dossier.reference ?? "—"),
    );
  }

  /** @param {number} id */
  async function showDetail(id) {
    try {
      const detail = await dossierOpen(id);
      context.refreshBadge();
      renderDetail(detail);
    } catch (reason) {
      report(reason, error);
    }
  }

  /** @param {DossierDetail} detail */
  function renderDetail(detail) {
    const d = detail.row;
    const back = h("button", { type: "button", class: "button secondary small", id: "dossier-back" }, "← Retour à la liste");
    back.addEventListener("click", async () => {
      view.replaceChildren(list);
      // Focus goes back to the dossier's row once the list is drawn again
      // (the row it had before is replaced by the redraw).
      await refresh();
      const button = results.querySelector(`[data-dossier-id="${d.id}"]`);
      if (button instanceof HTMLElement) {
        button.focus();
      }
    });
    const title = h("h2", { id: "dossier-title", tabindex: "-1" }, `Dossier de ${familyName(d)}`);
    const detailError = alertRegion("dossier-error");
    const detailStatus = statusRegion("dossier-status");

    const qf = d.quotient;
    /** @type {HTMLElement[]} */
    const sections = [
      h(
        "dl",
        { class: "recap", id: "dossier-summary" },
        h("dt", {}, "Statut"),
        h("dd", { id: "dossier-statut" }, statutTag(d.statut)),
        h("dt", {}, "Quotient familial"),
        h("dd", { id: "dossier-qf", class: "qf-value" }, formatQuotient(qf)),
        h("dt", {}, "Période du QF"),
        h("dd", {}, qf ? formatMonth(qf.annee, qf.mois) : "—"),
        h("dt", {}, "Organisme"),
        h("dd", {}, qf?.fournisseur || "—"),
        h("dt", {}, "Référence de la démarche"),
        h("dd", { class: "mono" }, d.reference ?? "—"),
        d.external_id ? [h("dt", {}, "Identifiant commune"), h("dd", { class: "mono" }, d.external_id)] : null,
        h("dt", {}, "Reçu le"),
        h("dd", {}, formatDateTime(d.recu_le)),
      ),
      tariffsBlock("dossier-tariffs", () => qfTariffs(commune.id, qf?.valeur ?? null)),
    ];
    if (d.reason) {
      sections.push(h("p", { class: "warning", id: "dossier-reason" }, d.reason));
    }
    if (detail.decision_message) {
      sections.push(h("p", { class: "note" }, `Motif du refus transmis : ${detail.decision_message}`));
    }
    if (detail.demandeur) {
      const p = detail.demandeur;
      sections.push(
        h("h3", {}, "Demandeur (identité FranceConnect)"),
        h(
          "dl",
          { class: "recap", id: "dossier-demandeur" },
          h("dt", {}, "Nom de naissance"),
          h("dd", {}, p.nom_naissance),
          h("dt", {}, "Prénoms"),
          h("dd", {}, p.prenoms),
          h("dt", {}, "Date de naissance"),
          h("dd", {}, formatBirthDate(p.date_naissance)),
          h("dt", {}, "Sexe"),
          h("dd", {}, p.genre === "female" ? "Féminin" : p.genre === "male" ? "Masculin" : "non précisé"),
          h("dt", {}, "Lieu de naissance (code INSEE)"),
          h("dd", {}, p.pays_naissance === "99100" || !p.pays_naissance
            ? `France${p.lieu_naissance ? `, commune ${p.lieu_naissance}` : ""}`
            : `Étranger, pays ${p.pays_naissance}`),
        ),
      );
    }
    sections.push(
      h("h3", {}, "Allocataires"),
      people(detail.allocataires, "dossier-allocataires", "Aucun allocataire transmis."),
      h("h3", {}, "Enfants"),
      people(detail.enfants, "dossier-enfants", "Aucun enfant transmis."),
      h("h3", {}, "Fichiers transmis"),
      files(detail, detailError),
      h("h3", {}, "Historique des échanges avec Hubee"),
      h(
        "ol",
        { class: "history", id: "dossier-history" },
        detail.history.map((entry) => h("li", {}, h("span", { class: "history-date" }, formatDateTime(entry.at)), " — ", entry.label)),
      ),
    );
    if (detail.same_family.length > 0) {
      sections.push(
        h("h3", {}, "Autres envois de la même famille"),
        h(
          "ul",
          { id: "dossier-same-family" },
          detail.same_family.map((other) => {
            const link = h(
              "button",
              { type: "button", class: "link-button", "data-dossier-id": String(other.id) },
              `${formatDateTime(other.recu_le)} — ${STATUT_LABELS[other.statut]} — QF ${formatQuotient(other.quotient)}`,
            );
            link.addEventListener("click", () => showDetail(other.id));
            return h("li", {}, link);
          }),
        ),
      );
    }
    sections.push(decisions(detail, detailError, detailStatus));

    view.replaceChildren(
      h(
        "article",
        { class: "dossier", id: "dossier-detail", "aria-labelledby": "dossier-title", "data-dossier-id": String(d.id) },
        back,
        title,
        detailStatus,
        detailError,
        sections,
      ),
    );
    focusHeading(title);
  }

  /**
   * @param {DossierDetail} detail
   * @param {HTMLElement} detailError
   */
  function files(detail, detailError) {
    if (detail.files_eliminated_at) {
      return h("p", { id: "dossier-files-eliminated" }, `Les fichiers de ce dossier ont été supprimés le ${formatDateTime(detail.files_eliminated_at)}, à la fin de leur durée de conservation.`);
    }
    if (detail.files.length === 0) {
      return h("p", {}, "Aucun fichier n'a encore pu être téléchargé.");
    }
    return h(
      "ul",
      { class: "file-list", id: "dossier-files" },
      detail.files.map((file) => {
        const isPdf = file.mime_type === "application/pdf" || file.name.toLowerCase().endsWith(".pdf");
        const button = h(
          "button",
          { type: "button", class: isPdf ? "button small" : "button secondary small", "data-file-id": String(file.id) },
          isPdf ? "Ouvrir le PDF" : "Ouvrir",
          h("span", { class: "visually-hidden" }, ` ${file.name}`),
        );
        button.addEventListener("click", () => {
          once(button, async () => {
            clearRegion(detailError);
            try {
              await dossierFileOpen(file.id);
            } catch (reason) {
              report(reason, detailError);
            }
          });
        });
        return h("li", {}, h("span", { class: "mono" }, file.name), ` (${formatSize(file.size)}) `, button);
      }),
    );
  }

  /**
   * The "Traité" / "Refusé" actions. Hubee cannot undo either, so each one
   * asks for confirmation and says so.
   * @param {DossierDetail} detail
   * @param {HTMLElement} detailError
   * @param {HTMLElement} detailStatus
   */
  function decisions(detail, detailError, detailStatus) {
    const d = detail.row;
    if (!detail.closable) {
      const why = d.statut === "incomplet" || d.statut === "a_verifier"
        ? "Ce dossier ne peut pas encore être traité : il sera complété au prochain relevé, ou vérifiez le PDF."
        : "Ce dossier est clos : aucune action n'est possible.";
      return h("div", { class: "dossier-actions" }, h("h3", {}, "Décision"), h("p", { class: "note", id: "dossier-no-action" }, why));
    }
    const done = h("button", { type: "button", class: "button", id: "dossier-traite" }, "Marquer comme traité");
    const refuse = h("button", { type: "button", class: "button danger-secondary", id: "dossier-refuse" }, "Refuser le dossier…");
    done.addEventListener("click", () => {
      once(done, async () => {
        const confirmed = await confirmAction({
          title: "Marquer le dossier comme traité ?",
          message: [
            `Le quotient familial de ${familyName(d)} (${formatQuotient(d.quotient)}) est pris en compte par la commune.`,
            "Hubee en sera informé et la démarche de la famille sera clôturée. Cette action est définitive : elle ne pourra pas être annulée.",
          ],
          confirmLabel: "Marquer comme traité",
        });
        if (confirmed) {
          await decide(null);
        }
      });
    });
    refuse.addEventListener("click", () => {
      once(refuse, async () => {
        const message = await askRefusal(familyName(d));
        if (message !== null) {
          await decide(message);
        }
      });
    });

    /** @param {string | null} refus */
    async function decide(refus) {
      clearRegion(detailError);
      try {
        const updated = await dossierDecide(d.id, refus);
        renderDetail(updated);
        const status = document.getElementById("dossier-status");
        if (status) {
          announce(status, refus === null ? "Dossier marqué comme traité ; Hubee est informé." : "Refus transmis ; Hubee est informé.");
        }
      } catch (reason) {
        report(reason, detailError);
      }
    }

    return h(
      "div",
      { class: "dossier-actions" },
      h("h3", {}, "Décision"),
      h("p", { class: "note" }, "Ces décisions sont transmises à Hubee et ne peuvent pas être annulées."),
      h("div", { class: "actions" }, done, refuse),
    );
  }

  syncPanel.onPassEnd(refresh);
  refresh();
  return heading;
}

/**
 * The relevé panel of a commune: last pass, progress, "Relever maintenant".
 * @param {number} communeId
 * @param {ShellContext} context
 */
function syncSection(communeId, context) {
  const line = h("p", { id: "sync-status", "aria-live": "polite" }, "Chargement de l'état du relevé…");
  const progress = h("progress", { id: "sync-progress", max: "1", value: "0", "aria-label": "Progression du relevé" });
  progress.hidden = true;
  const button = h("button", { type: "button", class: "button secondary small", id: "sync-now" }, "Relever maintenant");
  const error = alertRegion("sync-error");
  const element = h("section", { class: "sync-panel", id: "sync-panel", "aria-label": "Relevé Hubee" }, line, progress, h("div", { class: "actions" }, button), error);

  /** @type {(() => void)[]} */
  const passEnd = [];
  let wasRunning = false;

  /** @param {SyncState} state */
  function show(state) {
    if (state.commune_id !== communeId) {
      return;
    }
    button.disabled = state.running;
    if (state.running) {
      progress.hidden = false;
      progress.max = Math.max(state.total, 1);
      progress.value = state.done;
      setText(line, state.total > 0
        ? `Relevé en cours : ${state.done} dossier${state.done > 1 ? "s" : ""} sur ${state.total} (lot ${state.batch}).`
        : "Relevé en cours : interrogation de Hubee…");
    } else {
      progress.hidden = true;
      setText(line, describe(state));
      if (wasRunning) {
        for (const callback of passEnd) {
          callback();
        }
        context.refreshBadge();
      }
    }
    wasRunning = state.running;
  }

  button.addEventListener("click", () => {
    once(button, async () => {
      clearRegion(error);
      try {
        await syncNow();
        setText(line, "Relevé demandé…");
      } catch (reason) {
        report(reason, error);
      }
    });
  });

  watchSync(element, show);
  loadSyncStates()
    .then((states) => {
      const state = states.get(communeId);
      if (state) {
        show(state);
      }
    })
    .catch((reason) => report(reason, error));

  return {
    element,
    /** @param {() => void} callback */
    onPassEnd(callback) {
      passEnd.push(callback);
    },
  };
}

/** @param {SyncState} state */
function describe(state) {
  if (!state.configured) {
    return "Relevé Hubee inactif : les identifiants Hubee de la commune ne sont pas configurés (Paramètres › Secrets).";
  }
  if (state.last_attempt === null) {
    return "Aucun relevé Hubee pour l'instant.";
  }
  const when = `Dernier relevé le ${formatDateTime(state.last_attempt)}`;
  if (state.last_error !== null) {
    const success = state.last_success ? ` Dernier relevé réussi le ${formatDateTime(state.last_success)}.` : "";
    return `${when} — échec : ${state.last_error}${success}`;
  }
  const summary = state.last_summary;
  if (summary) {
    const parts = [`${summary.nouveaux} nouveau${summary.nouveaux > 1 ? "x" : ""} dossier${summary.nouveaux > 1 ? "s" : ""}`];
    if (summary.incomplets > 0) {
      parts.push(`${summary.incomplets} incomplet${summary.incomplets > 1 ? "s" : ""}`);
    }
    if (summary.erreurs > 0) {
      parts.push(`${summary.erreurs} à reprendre au prochain relevé`);
    }
    return `${when} — réussi : ${parts.join(", ")}.`;
  }
  return `${when} — réussi.`;
}

/** @param {InboxRow} dossier */
function familyName(dossier) {
  const name = [dossier.nom, dossier.prenoms].filter(Boolean).join(" ");
  return name || "famille non identifiée";
}

/** @param {Statut} statut */
function statutTag(statut) {
  return h("span", { class: `statut statut-${statut}` }, STATUT_LABELS[statut]);
}

/**
 * @param {Personne[]} list
 * @param {string} id
 * @param {string} empty
 */
function people(list, id, empty) {
  if (list.length === 0) {
    return h("p", { id }, empty);
  }
  return h(
    "ul",
    { id, class: "people" },
    list.map((person) => {
      const born = person.sexe === "M" ? "né" : person.sexe === "F" ? "née" : "né(e)";
      return h(
        "li",
        {},
        h("strong", {}, person.nom_usage ? `${person.nom_usage} (${born} ${person.nom_naissance})` : person.nom_naissance),
        ` ${person.prenoms}`,
        person.date_naissance ? ` — ${born} le ${formatBirthDate(person.date_naissance)}` : "",
      );
    }),
  );
}

/**
 * Asks for the refusal message; `null` when the agent cancels.
 * @param {string} family
 * @returns {Promise<string | null>}
 */
async function askRefusal(family) {
  const titleId = uniqueId("dialog-title");
  const textarea = h("textarea", { id: "refus-message", rows: "4", maxlength: "1000", required: true, "aria-describedby": "refus-hint" });
  const problem = h("p", { class: "field-error", id: "refus-problem", role: "alert" });
  const cancel = h("button", { type: "button", class: "button secondary" }, "Annuler");
  const confirm = h("button", { type: "button", class: "button danger", id: "refus-confirm" }, "Refuser définitivement");
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": titleId },
    h("h2", { id: titleId }, "Refuser le dossier ?"),
    h("p", {}, `Le dossier de ${family} sera refusé. Hubee en sera informé et la démarche de la famille sera clôturée. Cette action est définitive : elle ne pourra pas être annulée.`),
    h(
      "div",
      { class: "field" },
      h("label", { for: "refus-message" }, "Motif du refus"),
      h("p", { class: "hint", id: "refus-hint" }, "Il est transmis avec le dossier : écrivez-le pour la famille, en termes simples."),
      textarea,
      problem,
    ),
    h("div", { class: "actions" }, confirm, cancel),
  );
  cancel.addEventListener("click", () => dialog.close("cancel"));
  confirm.addEventListener("click", () => {
    if (textarea.value.trim() === "") {
      setText(problem, "Indiquez le motif du refus.");
      textarea.setAttribute("aria-invalid", "true");
      textarea.focus();
      return;
    }
    dialog.close("confirm");
  });
  const result = await openModal(dialog, cancel);
  return result === "confirm" ? textarea.value.trim() : null;
}
