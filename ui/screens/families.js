// Familles: the family file. The dossiers whose family is doubtful ("À
// rattacher") with their candidate families, the search (names, reference or
// the family's code), and a family's file: members, QF history with where each
// value came from, linked dossiers, notes, the opt-out of the automatic
// refresh, a paper attestation typed by hand, and the merge of two families.
// Opening a family is written to the access journal by the backend.

import { familiesPending, familyAttestationOpen, familyAttestationSaveAs, familyChange, familyOpen, familyPaperCheck, familySearch, familySettle, familyTariffs, lettersOpen } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { alertRegion, announce, clearInvalid, clearRegion, focusHeading, h, once, scrollRegion, setText, statusRegion } from "../dom.js";
import { report } from "../errors.js";
import { fileButton } from "../files.js";
import { exportPanel } from "./export.js";
import { lettersPanel } from "./letters.js";
import { formatDateTime, formatMonth, formatSize, STATUT_LABELS } from "../format.js";
import { tariffsBlock } from "../tariffs.js";

/** @typedef {import("./shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/FamilySummary").FamilySummary} FamilySummary */
/** @typedef {import("../bindings/FamilyView").FamilyView} FamilyView */
/** @typedef {import("../bindings/FamilyMember").FamilyMember} FamilyMember */
/** @typedef {import("../bindings/FamilyChange").FamilyChange} FamilyChange */
/** @typedef {import("../bindings/BirthParts").BirthParts} BirthParts */
/** @typedef {import("../bindings/QfRow").QfRow} QfRow */
/** @typedef {import("../bindings/PendingDossier").PendingDossier} PendingDossier */
/** @typedef {import("../bindings/OptOutChannel").OptOutChannel} OptOutChannel */
/** @typedef {import("../bindings/DocumentType").DocumentType} DocumentType */
/** @typedef {import("../bindings/PaperField").PaperField} PaperField */
/** @typedef {import("../bindings/PaperAttestation").PaperAttestation} PaperAttestation */

// Kept for the life of the window: back from a family, the agent finds the
// search as they left it.
let searchText = "";

/**
 * A family to open as soon as the view is drawn (the counter card's link).
 * @type {number | null}
 */
let familyToOpen = null;

/**
 * Asks the next drawing of the view to open this family.
 * @param {number} id
 */
export function openFamilyNext(id) {
  familyToOpen = id;
}

/** @type {Record<OptOutChannel, string>} */
const CHANNEL_LABELS = {
  courriel: "par courriel",
  courrier: "par courrier",
  guichet: "au guichet",
  telephone: "par téléphone",
};

/** @type {Record<OptOutChannel, string>} */
const CHANNEL_OPTIONS = {
  courriel: "Par courriel",
  courrier: "Par courrier",
  guichet: "Au guichet",
  telephone: "Par téléphone",
};

/** @type {Record<DocumentType, string>} */
const DOCUMENT_LABELS = {
  attestation_quotient_familial: "Attestation de quotient familial (caf.fr, msa.fr)",
  attestation_paiement: "Attestation de paiement",
  notification_droits: "Notification de droits",
};

const MONTH_NAMES = [
  "janvier", "février", "mars", "avril", "mai", "juin",
  "juillet", "août", "septembre", "octobre", "novembre", "décembre",
];

const euros = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 });

/**
 * "1 340 €", or the words for a QF the caisse did not compute.
 * @param {number | null} valeur
 */
function formatValue(valeur) {
  return valeur === null ? "Ressources non connues" : `${euros.format(valeur)} €`;
}

/** @param {string} fournisseur */
function providerLabel(fournisseur) {
  return fournisseur === "CNAF" ? "CAF (CNAF)" : fournisseur;
}

/**
 * "27/06/1987", "06/1987", "1987" or "inconnue".
 * @param {BirthParts} parts
 */
function formatParts(parts) {
  const two = (/** @type {number} */ n) => String(n).padStart(2, "0");
  if (parts.annee === null) {
    return "inconnue";
  }
  if (parts.mois === null) {
    return String(parts.annee);
  }
  if (parts.jour === null) {
    return `${two(parts.mois)}/${parts.annee}`;
  }
  return `${two(parts.jour)}/${two(parts.mois)}/${parts.annee}`;
}

/** "27/06/1987" from "1987-06-27". @param {string} iso */
function formatDay(iso) {
  const [year, month, day] = iso.split("-");
  return `${day}/${month}/${year}`;
}

/**
 * The family's name as the agent reads it: its pivot member, else its first.
 * @param {FamilyView} family
 */
function familyTitle(family) {
  const first = family.members.find((m) => m.pivot) ?? family.members[0];
  return first ? `${first.nom_naissance} ${first.prenoms}` : `famille ${family.external_id}`;
}

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderFamilies(main, context) {
  const heading = h("h1", { id: "view-heading" }, "Familles");
  const commune = context.currentCommune();
  if (!commune) {
    main.replaceChildren(heading, h("div", { class: "empty-state" }, h("p", {}, "Aucune commune n'est configurée : ajoutez-en une dans Paramètres.")));
    return heading;
  }
  const communeId = commune.id;
  const error = alertRegion("families-error");
  const status = statusRegion("families-status");

  // ---- À rattacher ----
  const pendingSection = h("section", { id: "families-pending", class: "families-pending", "aria-labelledby": "families-pending-heading" });

  async function loadPending() {
    try {
      const waiting = await familiesPending(communeId);
      drawPending(waiting);
    } catch (reason) {
      report(reason, error);
    }
  }

  /** @param {PendingDossier[]} waiting */
  function drawPending(waiting) {
    const title = h("h2", { id: "families-pending-heading", tabindex: "-1" }, "Dossiers à rattacher");
    if (waiting.length === 0) {
      pendingSection.replaceChildren(title, h("p", { id: "families-pending-empty" }, "Aucun dossier n'attend d'être rattaché : chaque dossier reçu a trouvé sa famille."));
      return;
    }
    pendingSection.replaceChildren(
      title,
      h("p", { class: "hint" }, `${waiting.length} dossier${waiting.length > 1 ? "s ressemblent" : " ressemble"} à une famille déjà connue sans que ce soit certain. Comparez, puis rattachez le dossier à la bonne famille ou créez-en une nouvelle.`),
      ...waiting.map(pendingCard),
    );
  }

  /** @param {PendingDossier} dossier */
  function pendingCard(dossier) {
    const titleId = `pending-${dossier.dossier_id}-title`;
    const create = h("button", { type: "button", class: "button secondary small", "data-settle-dossier": String(dossier.dossier_id), "data-new-family": "" }, "Créer une nouvelle famille");
    create.addEventListener("click", () => settle(create, dossier, null));
    return h(
      "article",
      { class: "pending-card", "aria-labelledby": titleId, "data-pending-dossier": String(dossier.dossier_id) },
      h("h3", { id: titleId }, `Dossier de ${dossier.applicant || "famille non identifiée"}`),
      h("p", {}, `Reçu le ${formatDateTime(dossier.received_at)}`, dossier.reference ? [" — référence ", h("span", { class: "mono" }, dossier.reference)] : ""),
      h(
        "div",
        scrollRegion(`Familles proches du dossier de ${dossier.applicant}`),
        h(
          "table",
          { class: "table" },
          h("caption", { class: "visually-hidden" }, `Familles proches du dossier de ${dossier.applicant}`),
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, "Famille"),
            h("th", { scope: "col" }, "Code"),
            h("th", { scope: "col", class: "number" }, "Ressemblance"),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Action")))),
          h("tbody", {}, dossier.candidates.map((candidate) => {
            const attach = h(
              "button",
              { type: "button", class: "button small", "data-settle-dossier": String(dossier.dossier_id), "data-attach-family-id": String(candidate.family.id) },
              "Rattacher à cette famille",
              h("span", { class: "visually-hidden" }, ` (${candidate.family.names})`),
            );
            attach.addEventListener("click", () => settle(attach, dossier, candidate.family.id));
            return h("tr", {},
              h("th", { scope: "row" }, candidate.family.names || "famille sans membre"),
              h("td", { class: "mono" }, candidate.family.external_id),
              h("td", { class: "number" }, `${candidate.score} / 100`),
              h("td", {}, attach));
          })),
        ),
      ),
      h("div", { class: "actions" }, create),
    );
  }

  /**
   * @param {HTMLElement} button
   * @param {PendingDossier} dossier
   * @param {number | null} familyId
   */
  function settle(button, dossier, familyId) {
    once(button, async () => {
      clearRegion(error);
      try {
        const family = await familySettle(dossier.dossier_id, familyId);
        announce(status, familyId === null
          ? `Une nouvelle famille a été créée pour le dossier de ${dossier.applicant}.`
          : `Le dossier de ${dossier.applicant} est rattaché à la famille.`);
        await loadPending();
        const heading = pendingSection.querySelector("h2");
        if (heading instanceof HTMLElement) {
          heading.focus();
        }
        return family;
      } catch (reason) {
        report(reason, error);
        return undefined;
      }
    });
  }

  // ---- Search ----
  const search = h("input", {
    id: "families-search",
    type: "search",
    class: "input-search",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "families-search-hint",
    value: searchText,
  });
  const count = h("p", { id: "families-count", class: "inbox-count", role: "status", "aria-live": "polite" });
  const results = h("div", { id: "families-results" });
  const searchForm = h(
    "form",
    { class: "inbox-filters", role: "search", "aria-label": "Rechercher une famille" },
    h("div", { class: "field" },
      h("label", { for: "families-search" }, "Nom, référence ou code"),
      h("p", { class: "hint", id: "families-search-hint" }, "Nom ou prénom d'un parent ou d'un enfant (avec ou sans accents, le début suffit), référence d'un dossier (13 caractères) ou code de la famille."),
      search),
  );
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  /** @type {number | undefined} */
  let typing;
  search.addEventListener("input", () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(refresh, 250);
  });

  let generation = 0;
  async function refresh() {
    searchText = search.value;
    const asked = ++generation;
    if (searchText.trim() === "") {
      results.replaceChildren();
      count.textContent = "";
      return;
    }
    try {
      const found = await familySearch(communeId, searchText);
      if (asked !== generation) {
        return;
      }
      clearRegion(error);
      setText(count, found.length === 0
        ? "Aucune famille ne correspond à la recherche."
        : `${found.length} famille${found.length > 1 ? "s trouvées" : " trouvée"}.`);
      results.replaceChildren(found.length === 0 ? "" : h(
        "ul",
        { class: "family-results", id: "families-list" },
        found.map((family) => {
          const open = h("button", { type: "button", class: "link-button", "data-family-id": String(family.id) }, family.names || "famille sans membre");
          open.addEventListener("click", () => showFamily(family.id));
          return h("li", {}, open, h("span", { class: "family-code" }, " — code ", h("span", { class: "mono" }, family.external_id)));
        }),
      ));
    } catch (reason) {
      report(reason, error);
    }
  }

  const searchSection = h(
    "section",
    { "aria-labelledby": "families-search-heading", class: "families-search" },
    h("h2", { id: "families-search-heading" }, "Rechercher une famille"),
    searchForm,
    count,
    results,
  );
  const list = h("div", { id: "families-list-view" }, searchSection, pendingSection, lettersPanel(commune), exportPanel(commune));
  const view = h("div", { class: "families" }, list);
  main.replaceChildren(heading, h("p", { class: "view-commune" }, `Commune : ${commune.name}`), status, error, view);

  // ---- A family ----

  /** @param {number} id */
  async function showFamily(id) {
    clearRegion(error);
    try {
      const family = await familyOpen(id);
      drawFamily(family, true);
    } catch (reason) {
      report(reason, error);
    }
  }

  /**
   * @param {FamilyView} family
   * @param {boolean} moveFocus
   */
  function drawFamily(family, moveFocus) {
    const back = h("button", { type: "button", class: "button secondary small", id: "family-back" }, "← Retour aux familles");
    back.addEventListener("click", () => {
      view.replaceChildren(list);
      loadPending();
      refresh().then(() => {
        const button = results.querySelector(`[data-family-id="${family.id}"]`);
        if (button instanceof HTMLElement) {
          button.focus();
        } else {
          search.focus();
        }
      });
    });
    const title = h("h2", { id: "family-title", tabindex: "-1" }, `Famille ${familyTitle(family)}`);
    const familyError = alertRegion("family-error");
    // The family's personal letter, whose QR code carries its code.
    const letter = h("button", { type: "button", class: "button secondary small", id: "family-letter" }, "Imprimer sa lettre personnelle");
    letter.addEventListener("click", () =>
      once(letter, async () => {
        clearRegion(familyError);
        try {
          await lettersOpen(commune.id, { kind: "families", ids: [family.id] });
          announce(status, "La lettre personnelle de la famille est ouverte dans le lecteur de PDF : imprimez-la depuis celui-ci. L'impression est inscrite au journal.");
        } catch (reason) {
          report(reason, familyError);
        }
      }),
    );
    // The attestation of the QF the commune holds, with the bracket and tariff of each
    // service: opened for printing, or saved where the agent chooses.
    const attestation = h("button", { type: "button", class: "button secondary small", id: "family-attestation" }, "Attestation de QF");
    const attestationSaveAs = h("button", { type: "button", class: "button secondary small", id: "family-attestation-save-as" }, "Enregistrer sous…");
    fileButton(attestation, {
      error: familyError,
      status,
      action: () => familyAttestationOpen(family.id),
      done: () => "L'attestation de quotient familial est ouverte dans le lecteur de PDF : imprimez-la depuis celui-ci. L'impression est inscrite au journal.",
    });
    fileButton(attestationSaveAs, {
      error: familyError,
      status,
      action: () => familyAttestationSaveAs(family.id),
      done: (printed) => `L'attestation de quotient familial est enregistrée dans « ${printed.path} » (${formatSize(printed.bytes)}).`,
    });

    /**
     * Sends a change, redraws the family and says what was done.
     * @param {HTMLElement} element
     * @param {FamilyChange} change
     * @param {string} done
     * @param {string} [focusId] the element to give focus to once redrawn
     */
    function apply(element, change, done, focusId) {
      return once(element, async () => {
        clearRegion(familyError);
        try {
          const updated = await familyChange(family.id, change);
          drawFamily(updated, false);
          announce(status, done);
          const target = (focusId ? document.getElementById(focusId) : null) ?? document.getElementById("family-title");
          if (target && /^H\d$/.test(target.tagName)) {
            focusHeading(target);
          } else {
            target?.focus();
          }
          return true;
        } catch (reason) {
          report(reason, familyError);
          return false;
        }
      });
    }

    view.replaceChildren(
      h(
        "article",
        { class: "family", id: "family-detail", "aria-labelledby": "family-title", "data-family-id": String(family.id) },
        back,
        title,
        familyError,
        h("dl", { class: "recap", id: "family-summary" },
          h("dt", {}, "Code de la famille"),
          h("dd", { class: "mono", id: "family-code" }, family.external_id),
          h("dt", {}, "Créée le"),
          h("dd", {}, `${formatDateTime(family.created_at)} par ${family.created_by}`),
          h("dt", {}, "Actualisation automatique"),
          h("dd", {}, family.identity_cleared_at
            ? `impossible : identité de référence effacée le ${formatDateTime(family.identity_cleared_at)} (durée de conservation)`
            : family.opt_out ? "arrêtée à la demande de la famille" : "oui")),
        h("div", { class: "actions" }, letter,
          h("span", { class: "button-group", role: "group", "aria-label": "Attestation de quotient familial", id: "family-attestation-actions" }, attestation, attestationSaveAs)),
        membersSection(family),
        historySection(family),
        tariffsBlock("family-tariffs", () => familyTariffs(family.id), "Tarifs d'après le dernier quotient familial"),
        dossiersSection(family),
        optOutSection(family, apply),
        enrolmentSection(family, apply),
        notesSection(family, apply),
        paperSection(family, apply),
        mergeSection(family, apply),
      ),
    );
    if (moveFocus) {
      focusHeading(title);
    }
  }

  /**
   * "Fusionner avec…": find the other family, confirm, merge into this one.
   * @param {FamilyView} family
   * @param {(element: HTMLElement, change: FamilyChange, done: string, focusId?: string) => Promise<boolean | undefined>} apply
   */
  function mergeSection(family, apply) {
    const input = h("input", { id: "family-merge-search", type: "search", class: "input-search", autocomplete: "off", spellcheck: "false", "aria-describedby": "family-merge-hint" });
    const found = h("div", { id: "family-merge-results" });
    const mergeError = alertRegion("family-merge-error");
    const form = h(
      "form",
      { role: "search", "aria-label": "Chercher la famille à fusionner", id: "family-merge-form" },
      h("div", { class: "field" },
        h("label", { for: "family-merge-search" }, "Famille à fusionner avec celle-ci"),
        h("p", { class: "hint", id: "family-merge-hint" }, "Nom, référence d'un dossier ou code de l'autre famille. Elle rejoindra celle-ci : membres, historique, dossiers et notes. Son code restera valable."),
        h("div", { class: "picker-chosen" }, input, h("button", { type: "submit", class: "button secondary small", id: "family-merge-find" }, "Chercher"))),
      found,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      once(form, async () => {
        try {
          const others = (await familySearch(communeId, input.value)).filter((other) => other.id !== family.id);
          found.replaceChildren(others.length === 0
            ? h("p", { role: "status" }, "Aucune autre famille ne correspond.")
            : h("ul", { class: "family-results" }, others.map((other) => {
              const merge = h("button", { type: "button", class: "button secondary small", "data-merge-family-id": String(other.id) }, "Fusionner avec cette famille", h("span", { class: "visually-hidden" }, ` (${other.names})`));
              merge.addEventListener("click", async () => {
                const sure = await confirmAction({
                  title: "Fusionner les deux familles ?",
                  message: [
                    `La famille ${other.names || other.external_id} (code ${other.external_id}) rejoindra la famille ${familyTitle(family)} : ses membres, son historique de quotient familial, ses dossiers et ses notes y seront rattachés, et son code mènera ici.`,
                    "La fusion ne peut pas être annulée.",
                  ],
                  confirmLabel: "Fusionner",
                  danger: true,
                });
                if (sure) {
                  await apply(merge, { type: "merge_with", absorbed: other.id }, `La famille ${other.names || other.external_id} a été fusionnée dans celle-ci.`);
                }
              });
              return h("li", {}, h("span", {}, other.names || "famille sans membre", " — code ", h("span", { class: "mono" }, other.external_id), " "), merge);
            })));
        } catch (reason) {
          report(reason, mergeError);
        }
      });
    });
    return h("section", { "aria-labelledby": "family-merge-heading", class: "family-section" },
      h("h3", { id: "family-merge-heading" }, "Fusionner avec une autre famille"),
      mergeError,
      form);
  }

  loadPending();
  if (familyToOpen !== null) {
    const id = familyToOpen;
    familyToOpen = null;
    showFamily(id);
  } else if (searchText.trim() !== "") {
    refresh();
  }
  return heading;
}

/** @param {FamilyView} family */
function membersSection(family) {
  /** @param {FamilyMember} member */
  const row = (member) => h(
    "tr",
    { "data-member-id": String(member.id), class: member.pivot ? "pivot" : null },
    h("td", {}, member.role === "enfant" ? "Enfant" : "Allocataire"),
    h("th", { scope: "row" }, member.nom_usage ? `${member.nom_usage} (né·e ${member.nom_naissance})` : member.nom_naissance, " ", member.prenoms),
    h("td", {}, formatParts(member.naissance)),
    h("td", {}, member.sexe === "F" ? "Féminin" : member.sexe === "M" ? "Masculin" : "—"),
    h("td", {}, member.pivot
      ? h("span", { class: "tag", id: "family-pivot" }, "Identité de référence")
      : ""),
  );
  const pivot = family.members.find((m) => m.pivot);
  return h("section", { "aria-labelledby": "family-members-heading", class: "family-section" },
    h("h3", { id: "family-members-heading" }, "Membres"),
    family.members.length === 0
      ? h("p", { id: "family-members" }, "Aucun membre enregistré.")
      : h("div", scrollRegion("Membres de la famille"),
        h("table", { class: "table", id: "family-members" },
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, "Rôle"),
            h("th", { scope: "col" }, "Nom et prénoms"),
            h("th", { scope: "col" }, "Date de naissance"),
            h("th", { scope: "col" }, "Sexe"),
            h("th", { scope: "col" }, "Actualisation"))),
          h("tbody", {}, family.members.map(row)))),
    pivot
      ? h("p", { class: "hint" }, `L'identité de référence est celle que l'actualisation automatique envoie à la CAF ou à la MSA${birthPlace(pivot)}.`)
      : h("p", { class: "warning" }, "Aucune identité de référence : l'actualisation automatique ne peut pas consulter le quotient familial de cette famille."));
}

/**
 * " (née dans la commune de code INSEE 04107)", or nothing when unknown.
 * @param {FamilyMember} member
 */
function birthPlace(member) {
  const born = member.sexe === "F" ? "née" : member.sexe === "M" ? "né" : "né·e";
  if (member.commune_naissance) {
    return ` (${born} dans la commune de code INSEE ${member.commune_naissance})`;
  }
  if (member.commune_naissance_nom) {
    return ` (${born} à ${member.commune_naissance_nom}${member.departement_naissance ? `, département ${member.departement_naissance}` : ""})`;
  }
  if (member.pays_naissance && member.pays_naissance !== "99100") {
    return ` (${born} à l'étranger, pays de code INSEE ${member.pays_naissance})`;
  }
  return "";
}

/** @param {FamilyView} family */
function historySection(family) {
  /** @param {QfRow} qf */
  const row = (qf) => h(
    "tr",
    { "data-qf-id": String(qf.id), "data-source": qf.source.type },
    h("th", { scope: "row" }, formatMonth(qf.annee, qf.mois)),
    h("td", { class: "number qf-cell" }, formatValue(qf.valeur)),
    h("td", {}, providerLabel(qf.fournisseur)),
    h("td", { class: "qf-source" }, qf.source_label),
    h("td", {}, formatDateTime(qf.recorded_at)),
    h("td", {}, qf.agent),
  );
  return h("section", { "aria-labelledby": "family-history-heading", class: "family-section" },
    h("h3", { id: "family-history-heading" }, "Historique du quotient familial"),
    family.history.length === 0
      ? h("p", { id: "family-history" }, "Aucun quotient familial enregistré.")
      : h("div", scrollRegion("Historique du quotient familial"),
        h("table", { class: "table", id: "family-history" },
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, "Mois"),
            h("th", { scope: "col", class: "number" }, "Quotient familial"),
            h("th", { scope: "col" }, "Organisme"),
            h("th", { scope: "col" }, "Source"),
            h("th", { scope: "col" }, "Enregistré le"),
            h("th", { scope: "col" }, "Par"))),
          h("tbody", {}, family.history.map(row)))));
}

/** @param {FamilyView} family */
function dossiersSection(family) {
  return h("section", { "aria-labelledby": "family-dossiers-heading", class: "family-section" },
    h("h3", { id: "family-dossiers-heading" }, "Dossiers Hubee rattachés"),
    family.dossiers.length === 0
      ? h("p", { id: "family-dossiers" }, "Aucun dossier reçu par Hubee pour cette famille.")
      : h("ul", { id: "family-dossiers" }, family.dossiers.map((dossier) => h(
        "li",
        { "data-dossier-id": String(dossier.id) },
        `Reçu le ${formatDateTime(dossier.received_at)}`,
        dossier.reference ? [" — référence ", h("span", { class: "mono" }, dossier.reference)] : "",
        ` — ${STATUT_LABELS[dossier.statut]} — rattaché ${dossier.how}`,
      ))));
}

/**
 * @typedef {(element: HTMLElement, change: FamilyChange, done: string, focusId?: string) => Promise<boolean | undefined>} Apply
 */

/**
 * @param {FamilyView} family
 * @param {Apply} apply
 */
function optOutSection(family, apply) {
  const heading = h("h3", { id: "family-optout-heading" }, "Actualisation automatique du quotient familial");
  if (family.opt_out) {
    const o = family.opt_out;
    const resume = h("button", { type: "button", class: "button secondary", id: "family-resume" }, "Reprendre l'actualisation");
    resume.addEventListener("click", () => apply(resume, { type: "resume" }, "L'actualisation automatique reprendra pour cette famille.", "family-optout-submit"));
    return h("section", { "aria-labelledby": "family-optout-heading", class: "family-section" },
      heading,
      h("p", { id: "family-optout-state", class: "note" },
        `La famille a demandé l'arrêt de l'actualisation le ${formatDay(o.requested_on)}, ${CHANNEL_LABELS[o.channel]}`,
        o.recorded_by ? ` (enregistré par ${o.recorded_by}${o.recorded_at ? ` le ${formatDateTime(o.recorded_at)}` : ""})` : "",
        ". Son quotient familial n'est plus consulté automatiquement : demandez-lui ses attestations."),
      h("div", { class: "actions" }, resume));
  }
  const date = h("input", { type: "date", id: "family-optout-date", max: new Date().toISOString().slice(0, 10) });
  const channel = h("select", { id: "family-optout-channel" },
    h("option", { value: "" }, "Choisissez"),
    /** @type {OptOutChannel[]} */ (["courriel", "courrier", "guichet", "telephone"]).map((value) => h("option", { value }, CHANNEL_OPTIONS[value])));
  const submit = h("button", { type: "submit", class: "button secondary", id: "family-optout-submit" }, "Enregistrer l'arrêt de l'actualisation");
  const form = h("form", { id: "family-optout-form", class: "form", novalidate: true },
    h("p", { class: "hint" }, "Si la famille refuse que la mairie actualise son quotient familial, notez ici le jour et le moyen de sa demande."),
    h("div", { class: "date-row" },
      h("div", { class: "field" }, h("label", { for: "family-optout-date" }, "Date de la demande"), date),
      h("div", { class: "field" }, h("label", { for: "family-optout-channel" }, "Demande faite"), channel)),
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply(form, {
      type: "opt_out",
      requested_on: date.value === "" ? null : date.value,
      channel: channel.value === "" ? null : /** @type {OptOutChannel} */ (channel.value),
    }, "L'arrêt de l'actualisation automatique est enregistré.", "family-resume");
  });
  return h("section", { "aria-labelledby": "family-optout-heading", class: "family-section" },
    heading,
    h("p", { id: "family-optout-state" }, "Le quotient familial de cette famille est actualisé automatiquement."),
    form);
}

/**
 * "Fin d'inscription": the day the family left the commune's services, from
 * which the retention limits count (Paramètres › Conservation des données).
 * @param {FamilyView} family
 * @param {Apply} apply
 */
function enrolmentSection(family, apply) {
  const heading = h("h3", { id: "family-enrolment-heading" }, "Fin d'inscription");
  if (family.enrolment_end) {
    const end = family.enrolment_end;
    const clear = h("button", { type: "button", class: "button secondary", id: "family-enrolment-clear" }, "Annuler la fin d'inscription");
    clear.addEventListener("click", () => apply(clear, { type: "enrolment_resume" }, "La fin d'inscription est annulée : la famille est de nouveau inscrite.", "family-enrolment-submit"));
    return h("section", { "aria-labelledby": "family-enrolment-heading", class: "family-section" },
      heading,
      h("p", { id: "family-enrolment-state", class: "note" },
        `L'inscription de la famille a pris fin le ${formatDay(end.ended_on)}`,
        end.recorded_by ? ` (enregistré par ${end.recorded_by}${end.recorded_at ? ` le ${formatDateTime(end.recorded_at)}` : ""})` : "",
        ". Son identité de référence puis son dossier seront supprimés aux durées de conservation ; elle n'est plus actualisée."),
      h("div", { class: "actions" }, clear));
  }
  const date = h("input", { type: "date", id: "family-enrolment-date", max: new Date().toISOString().slice(0, 10), "aria-describedby": "family-enrolment-hint" });
  const submit = h("button", { type: "submit", class: "button secondary", id: "family-enrolment-submit" }, "Enregistrer la fin d'inscription");
  const form = h("form", { id: "family-enrolment-form", class: "form", novalidate: true },
    h("p", { class: "hint", id: "family-enrolment-hint" }, "Quand la famille n'est plus inscrite à aucun service de la commune, notez le jour où l'inscription a pris fin : les durées de conservation comptent à partir de ce jour."),
    h("div", { class: "field" }, h("label", { for: "family-enrolment-date" }, "Date de fin d'inscription"), date),
    h("div", { class: "actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply(form, {
      type: "enrolment_end",
      ended_on: date.value === "" ? null : date.value,
    }, "La fin d'inscription est enregistrée.", "family-enrolment-clear");
  });
  return h("section", { "aria-labelledby": "family-enrolment-heading", class: "family-section" },
    heading,
    h("p", { id: "family-enrolment-state" }, "La famille est inscrite."),
    form);
}

/**
 * @param {FamilyView} family
 * @param {Apply} apply
 */
function notesSection(family, apply) {
  const notes = h("textarea", { id: "family-notes", rows: "3", maxlength: "4000", "aria-describedby": "family-notes-hint" });
  notes.value = family.notes;
  const save = h("button", { type: "submit", class: "button secondary", id: "family-notes-save" }, "Enregistrer les notes");
  const form = h("form", { id: "family-notes-form" },
    h("div", { class: "field" },
      h("label", { for: "family-notes" }, "Notes"),
      h("p", { class: "hint", id: "family-notes-hint" }, "Pour joindre la famille ou suivre son dossier. N'y écrivez ni santé, ni religion, ni avis sur la famille."),
      notes),
    h("div", { class: "actions" }, save));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply(form, { type: "notes", notes: notes.value }, "Les notes sont enregistrées.", "family-notes");
  });
  return h("section", { "aria-labelledby": "family-notes-heading", class: "family-section" },
    h("h3", { id: "family-notes-heading" }, "Notes"),
    form);
}

/**
 * "Saisir une attestation papier": each field's message is shown next to it.
 * @param {FamilyView} family
 * @param {Apply} apply
 */
function paperSection(family, apply) {
  /**
   * @param {PaperField} field
   * @param {string} label
   * @param {HTMLElement} control
   * @param {string} [hint]
   */
  const field = (field, label, control, hint) => {
    const errorId = `family-paper-${field}-error`;
    const hintId = hint ? `family-paper-${field}-hint` : null;
    control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
    return h("div", { class: "field", "data-field": field },
      h("label", { for: control.id }, label),
      hint ? h("p", { class: "hint", id: hintId }, hint) : null,
      control,
      h("p", { class: "field-error", id: errorId }));
  };
  const valeur = h("input", { type: "text", inputmode: "numeric", id: "family-paper-valeur", class: "input-short", autocomplete: "off" });
  const mois = h("select", { id: "family-paper-mois" },
    h("option", { value: "" }, "Mois"),
    MONTH_NAMES.map((name, i) => h("option", { value: String(i + 1) }, name)));
  const annee = h("input", { type: "text", inputmode: "numeric", id: "family-paper-annee", class: "input-year", maxlength: "4", autocomplete: "off", "aria-label": "Année du quotient familial" });
  const fournisseur = h("select", { id: "family-paper-fournisseur" },
    h("option", { value: "" }, "Choisissez"),
    h("option", { value: "CNAF" }, "CAF (CNAF)"),
    h("option", { value: "MSA" }, "MSA"));
  const docType = h("select", { id: "family-paper-document" },
    h("option", { value: "" }, "Choisissez"),
    /** @type {DocumentType[]} */ (["attestation_quotient_familial", "attestation_paiement", "notification_droits"]).map((value) => h("option", { value }, DOCUMENT_LABELS[value])));
  const periodError = h("p", { class: "field-error", id: "family-paper-periode-error" });
  mois.setAttribute("aria-describedby", "family-paper-periode-error");
  annee.setAttribute("aria-describedby", "family-paper-periode-error");
  const summary = alertRegion("family-paper-error");
  const submit = h("button", { type: "submit", class: "button", id: "family-paper-submit" }, "Enregistrer l'attestation");
  const form = h("form", { id: "family-paper-form", class: "form", novalidate: true },
    h("p", { class: "hint" }, "Quand la famille apporte une attestation de la CAF ou de la MSA, recopiez-en le quotient familial : il rejoint l'historique avec le type de document."),
    summary,
    field("valeur", "Quotient familial (en euros)", valeur, "Le montant écrit sur l'attestation, sans centimes."),
    h("fieldset", { class: "date-parts", "data-field": "periode" },
      h("legend", {}, "Mois du quotient familial"),
      h("div", { class: "date-row" },
        h("div", { class: "field" }, h("label", { for: "family-paper-mois" }, "Mois"), mois),
        h("div", { class: "field" }, h("label", { for: "family-paper-annee" }, "Année"), annee)),
      periodError),
    field("fournisseur", "Organisme", fournisseur),
    field("document", "Type de document", docType),
    h("div", { class: "actions" }, submit));

  /** @type {Record<PaperField, HTMLElement>} */
  const controls = { valeur, periode: mois, fournisseur, document: docType };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    once(form, async () => {
      clearInvalid(form);
      clearRegion(summary);
      for (const error of form.querySelectorAll(".field-error")) {
        error.textContent = "";
      }
      const number = (/** @type {string} */ text) => (text.trim() === "" || !/^\d+$/.test(text.trim()) ? null : Number(text.trim()));
      // "1 340 €" as printed on the attestation is read as 1340.
      const typed = valeur.value.trim();
      const digits = typed.replace(/[\s\u00a0\u202f€]/g, "");
      const notANumber = typed !== "" && !/^\d+$/.test(digits)
        ? `Quotient familial « ${typed} » : écrivez un nombre entier d'euros, sans centimes (par exemple 845).`
        : null;
      /** @type {PaperAttestation} */
      const paper = {
        valeur: /^\d+$/.test(digits) ? Number(digits) : null,
        annee: number(annee.value),
        mois: mois.value === "" ? null : Number(mois.value),
        fournisseur: fournisseur.value,
        document: docType.value === "" ? null : /** @type {DocumentType} */ (docType.value),
      };
      try {
        const problems = await familyPaperCheck(paper);
        if (notANumber !== null) {
          problems.splice(0, problems.length, { field: "valeur", message: notANumber }, ...problems.filter((p) => p.field !== "valeur"));
        }
        if (problems.length > 0) {
          for (const problem of problems) {
            const where = form.querySelector(`#family-paper-${problem.field}-error`);
            if (where) {
              setText(where, problem.message);
            }
            controls[problem.field].setAttribute("aria-invalid", "true");
            if (problem.field === "periode") {
              annee.setAttribute("aria-invalid", "true");
            }
          }
          announce(summary, problems.length > 1
            ? `L'attestation n'est pas enregistrée : ${problems.length} champs sont à corriger.`
            : "L'attestation n'est pas enregistrée : un champ est à corriger.");
          controls[problems[0].field].focus();
          return;
        }
      } catch (reason) {
        report(reason, summary);
        return;
      }
      const value = paper.valeur ?? 0;
      // The form is busy already: the change is sent on behalf of its button.
      await apply(submit, { type: "paper", paper }, `Attestation enregistrée : ${euros.format(value)} € pour ${formatMonth(paper.annee, paper.mois)}.`, "family-history-heading");
    });
  });
  return h("section", { "aria-labelledby": "family-paper-heading", class: "family-section" },
    h("h3", { id: "family-paper-heading" }, "Saisir une attestation papier"),
    form);
}
