// Paramètres › Conservation des données: how long each class of personal data
// is kept (RGPD, users-and-peers §3.2), the simulation of the purge, the purge
// itself behind a confirmation that repeats what it removes, and the purges
// already done (kept for the "bordereau d'élimination" of the archives).
// Administrators change the limits and purge; agents read them and simulate.

import { purgesList, retentionGet, retentionPreview, retentionPurge, retentionSave, rgpdDocumentOpen } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";
import { fileButton } from "../files.js";
import { formatDateTime } from "../format.js";

/** @typedef {import("../bindings/Retention").Retention} Retention */
/** @typedef {import("../bindings/PurgeReport").PurgeReport} PurgeReport */
/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("./settings.js").Section} Section */

/**
 * Each limit: its field, its unit, its bounds, and its legal basis in one sentence.
 * @type {{ key: Exclude<keyof Retention, "journal_justification">, label: string, min: number, max: number, basis: string }[]}
 */
const LIMITS = [
  {
    key: "qf_history_months",
    label: "Historique des quotients familiaux (en mois)",
    min: 12,
    max: 120,
    basis: "La période tarifaire en cours et une année pour les contestations de factures ; la durée déclarée sur DataPass. Le QF le plus récent d'une famille inscrite est toujours gardé.",
  },
  {
    key: "identity_days",
    label: "Identité de référence, après la fin d'inscription ou l'arrêt de l'actualisation (en jours)",
    min: 0,
    max: 365,
    basis: "Les conditions du formulaire QF permettent de la garder jusqu'à ce que la famille ne soit plus concernée ; la famille n'est ensuite plus actualisée.",
  },
  {
    key: "family_months",
    label: "Dossier famille, après la fin d'inscription (en mois)",
    min: 0,
    max: 120,
    basis: "Membres, historique, notes et dossiers liés : le temps de régler les dernières factures (minimisation, norme CNIL NS-058).",
  },
  {
    key: "dossier_files_days",
    label: "Fichiers des dossiers Hubee, après la clôture du dossier (en jours)",
    min: 0,
    max: 3650,
    basis: "Le PDF et le JSON reçus ne servent plus une fois le dossier traité ou refusé ; le dossier reste dans la liste.",
  },
  {
    key: "export_days",
    label: "Fichiers d'export dans le dossier Documents (en jours)",
    min: 0,
    max: 365,
    basis: "Les exports pour la facturation sont temporaires (minimisation) ; seuls les fichiers nommés par Guichet QF sont supprimés.",
  },
  {
    key: "journal_months",
    label: "Journal des accès (en mois)",
    min: 36,
    max: 120,
    basis: "36 mois au moins (conditions d'API Particulier et du formulaire QF) ; au-delà, DataPass demande une justification.",
  },
];

/**
 * @param {string | null} day AAAA-MM-JJ
 */
function formatDay(day) {
  if (!day) {
    return "";
  }
  const [year, month, date] = day.split("-");
  return `${date}/${month}/${year}`;
}

/**
 * The lines of a purge's report: one per commune, then the journal and the exports.
 * @param {PurgeReport} purge
 * @returns {string[]}
 */
function reportLines(purge) {
  const lines = purge.communes.map((commune) =>
    commune.removed_from && commune.removed_to
      ? `${commune.summary} Données du ${formatDay(commune.removed_from)} au ${formatDay(commune.removed_to)}.`
      : commune.summary,
  );
  if (purge.journal_rows > 0) {
    lines.push(`Journal des accès : ${purge.journal_rows} ligne${purge.journal_rows > 1 ? "s" : ""} antérieure${purge.journal_rows > 1 ? "s" : ""} au ${formatDateTime(purge.journal_before)}.`);
  }
  if (purge.export_files.length > 0) {
    lines.push(`Fichiers d'export : ${purge.export_files.join(", ")}.`);
  }
  return lines;
}

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function retentionSection(context) {
  const element = h("div", {}, limitsForm(context), purgePanel(context));
  return { element };
}

/** @param {ShellContext} context */
function limitsForm(context) {
  const status = statusRegion("retention-status");
  const error = alertRegion("retention-error");
  const body = h("div", {}, h("p", {}, "Chargement…"));

  /** @param {Retention} retention */
  function draw(retention) {
    const fields = LIMITS.map((limit) => {
      const field = textField({
        id: `retention-${limit.key}`,
        label: limit.label,
        hint: limit.basis,
        type: "number",
        inputmode: "numeric",
        value: String(retention[limit.key]),
        extra: { min: String(limit.min), max: String(limit.max), step: "1", class: "input-short", disabled: !context.isAdmin },
      });
      return { limit, field };
    });
    const justificationId = "retention-journal_justification";
    const justification = h("textarea", {
      id: justificationId,
      rows: "3",
      disabled: !context.isAdmin,
      "aria-describedby": `${justificationId}-hint`,
    });
    justification.value = retention.journal_justification;
    const justificationField = h(
      "div",
      { class: "field" },
      h("label", { for: justificationId }, "Justification d'une durée du journal au-delà de 36 mois"),
      h("p", { class: "hint", id: `${justificationId}-hint` }, "Obligatoire au-delà de 36 mois, comme sur DataPass."),
      justification,
    );
    if (!context.isAdmin) {
      body.replaceChildren(
        ...fields.map(({ field }) => field.wrapper),
        justificationField,
        h("p", { class: "hint" }, "Seul un administrateur peut modifier ces durées."),
      );
      return;
    }
    const submit = h("button", { type: "submit", class: "button", id: "retention-submit" }, "Enregistrer les durées");
    const form = h("form", { class: "form", id: "retention-form", novalidate: true }, ...fields.map(({ field }) => field.wrapper), justificationField, h("div", { class: "actions" }, submit));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      once(form, async () => {
        clearRegion(error);
        clearRegion(status);
        clearInvalid(form);
        /** @type {Retention} */
        const wanted = { ...retention, journal_justification: justification.value };
        for (const { limit, field } of fields) {
          const value = Number.parseInt(field.input.value, 10);
          if (Number.isNaN(value)) {
            flagInvalid(field.input, error);
            announce(error, `${limit.label} : indiquez un nombre.`);
            field.input.focus();
            return;
          }
          wanted[limit.key] = value;
        }
        try {
          const saved = await retentionSave(wanted);
          draw(saved);
          announce(status, "Durées de conservation enregistrées.");
        } catch (reason) {
          report(reason, error);
        }
      });
    });
    body.replaceChildren(form);
  }

  retentionGet()
    .then(draw)
    .catch((reason) => report(reason, error));
  return h(
    "div",
    { class: "settings-subsection" },
    h("h3", {}, "Durées de conservation"),
    h("p", {}, "Durées proposées par défaut, à valider avec le délégué à la protection des données de la commune. Chaque durée compte à partir du jour de la purge."),
    body,
    status,
    error,
  );
}

/** @param {ShellContext} context */
function purgePanel(context) {
  const status = statusRegion("purge-status");
  const error = alertRegion("purge-error");
  const result = h("div", { id: "purge-report" });
  const history = h("div", { id: "purges-list" }, h("p", {}, "Chargement…"));
  const simulate = h("button", { type: "button", class: "button secondary", id: "purge-simulate" }, "Simuler la purge");
  const purge = h("button", { type: "button", class: "button danger", id: "purge-run", hidden: !context.isAdmin }, "Purger");

  /**
   * @param {PurgeReport} purgeReport
   * @param {string} title
   */
  function show(purgeReport, title) {
    result.replaceChildren(
      h("h4", {}, title),
      h("p", { id: "purge-summary" }, purgeReport.summary),
      h("ul", {}, reportLines(purgeReport).map((line) => h("li", {}, line))),
      purgeReport.backup_name ? h("p", {}, `Sauvegarde de sécurité faite avant la purge : ${purgeReport.backup_name}.`) : null,
    );
  }

  function drawHistory() {
    purgesList()
      .then((purges) => {
        if (purges.length === 0) {
          history.replaceChildren(h("p", {}, "Aucune purge n'a encore été faite."));
          return;
        }
        history.replaceChildren(
          h(
            "ul",
            {},
            purges.map((done) =>
              h(
                "li",
                { "data-purge-id": String(done.id) },
                h("p", {}, `Purge n° ${done.id} du ${formatDateTime(done.at)} par ${done.agent} : ${done.summary}`),
                h("ul", {}, reportLines(done).map((line) => h("li", {}, line))),
                h("p", { class: "hint" }, `Sauvegarde faite avant : ${done.backup_name ?? "—"}.`),
                bordereauButtons(done),
              ),
            ),
          ),
        );
      })
      .catch((reason) => report(reason, error));
  }

  /**
   * "Bordereau d'élimination (PDF)" of a stored purge: one per commune it removed data in
   * (the producing service), or for the commune in the header when it removed only journal
   * rows and exports.
   * @param {PurgeReport} done
   */
  function bordereauButtons(done) {
    const purgeId = done.id;
    if (purgeId === null) {
      return null;
    }
    const current = context.currentCommune();
    const communes = done.communes.length > 0
      ? done.communes.map((c) => ({ id: c.commune_id, name: c.commune_name }))
      : current ? [{ id: current.id, name: current.name }] : [];
    return h(
      "div",
      { class: "actions" },
      communes.map((commune) => {
        const label = communes.length > 1 ? `Bordereau d'élimination (PDF) — ${commune.name}` : "Bordereau d'élimination (PDF)";
        const button = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "button secondary", id: `bordereau-${purgeId}-${commune.id}` }, label));
        fileButton(button, {
          error,
          status,
          action: () => rgpdDocumentOpen({ kind: "bordereau", purge_id: purgeId, commune_id: commune.id }, "pdf"),
          done: (printed) => `Le bordereau d'élimination de la purge n° ${purgeId} est ouvert (${printed.path}) : imprimez-le pour le visa des archives départementales.`,
        });
        return button;
      }),
    );
  }

  simulate.addEventListener("click", () => {
    once(simulate, async () => {
      clearRegion(error);
      clearRegion(status);
      try {
        const preview = await retentionPreview();
        show(preview, "Simulation : rien n'a été supprimé");
        announce(status, preview.summary);
      } catch (reason) {
        report(reason, error);
      }
    });
  });

  purge.addEventListener("click", () => {
    once(purge, async () => {
      clearRegion(error);
      clearRegion(status);
      try {
        const preview = await retentionPreview();
        if (preview.communes.length === 0 && preview.journal_rows === 0 && preview.export_files.length === 0) {
          show(preview, "Simulation : rien n'a été supprimé");
          announce(status, preview.summary);
          return;
        }
        const confirmed = await confirmAction({
          title: "Purger les données arrivées au terme de leur conservation ?",
          message: [preview.summary, ...reportLines(preview), "Une sauvegarde de sécurité est faite juste avant. La purge est inscrite au journal des accès."],
          confirmLabel: "Purger",
          danger: true,
        });
        if (!confirmed) {
          return;
        }
        const done = await retentionPurge();
        show(done, "Purge faite");
        announce(status, done.summary);
        drawHistory();
      } catch (reason) {
        report(reason, error);
      }
    });
  });

  drawHistory();
  return h(
    "div",
    { class: "settings-subsection" },
    h("h3", {}, "Purge"),
    h("p", {}, "La simulation indique ce qui serait supprimé aujourd'hui, sans rien supprimer. Un dossier pas encore traité n'est jamais supprimé."),
    h("div", { class: "actions" }, simulate, purge),
    status,
    error,
    result,
    h("h3", {}, "Purges faites"),
    h("p", { class: "hint" }, "Gardées pour le bordereau d'élimination à faire viser par les archives départementales."),
    history,
  );
}
