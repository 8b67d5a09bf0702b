// Actualisation: the refresh of the families' QF on API Particulier. The
// commune's schedule (administrators set it), "Actualiser maintenant" with a
// progress bar that follows the run wherever the agent was, the latest run's
// summary, the preview ("N familles changent de QF"), the families an agent
// must look at, and "Appliquer". Nothing reaches the family file before
// "Appliquer"; families who opted out are never asked.

import { onRefreshState, refreshApply, refreshNow, refreshPreview, refreshScheduleSet, refreshState } from "../api.js";
import { alertRegion, announce, clearRegion, h, once, setText, statusRegion } from "../dom.js";
import { report } from "../errors.js";
import { formatDateTime } from "../format.js";

/** @typedef {import("./shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/RefreshView").RefreshView} RefreshView */
/** @typedef {import("../bindings/RefreshSummary").RefreshSummary} RefreshSummary */
/** @typedef {import("../bindings/RefreshPreview").RefreshPreview} RefreshPreview */
/** @typedef {import("../bindings/RefreshSchedule").RefreshSchedule} RefreshSchedule */

const MONTHS = [
  "janvier", "février", "mars", "avril", "mai", "juin",
  "juillet", "août", "septembre", "octobre", "novembre", "décembre",
];

/** @type {Record<RefreshSummary["state"], string>} */
const STATE_LABELS = {
  en_cours: "en cours",
  arretee: "arrêtée",
  apercu: "à appliquer",
  appliquee: "appliquée",
  abandonnee: "remplacée",
};

// The screen on the page, redrawn by the refresh events; one listener for the
// life of the page.
/** @type {((view: RefreshView) => void) | null} */
let shownScreen = null;
let listening = false;

function listen() {
  if (listening) {
    return;
  }
  listening = true;
  onRefreshState((view) => shownScreen?.(view)).catch((reason) => {
    listening = false;
    console.error("refresh-state events unavailable", reason);
  });
}

/** @param {number | null} valeur */
const qf = (valeur) => (valeur === null ? "ressources non connues" : `${valeur} €`);

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderRefresh(main, context) {
  const heading = h("h1", { id: "view-heading" }, "Actualisation des QF");
  const commune = context.currentCommune();
  if (!commune) {
    main.replaceChildren(heading, h("p", {}, "Ajoutez d'abord une commune dans Paramètres."));
    return heading;
  }
  const error = alertRegion("refresh-error");
  const status = statusRegion("refresh-status");

  // The schedule.
  const kind = h(
    "select",
    { id: "refresh-schedule-kind", name: "refresh-schedule-kind" },
    h("option", { value: "aucune" }, "Seulement à la demande"),
    h("option", { value: "mensuelle" }, "Chaque mois"),
    h("option", { value: "annuelle" }, "Chaque année"),
  );
  const month = h(
    "select",
    { id: "refresh-schedule-month", name: "refresh-schedule-month" },
    MONTHS.map((name, i) => h("option", { value: String(i + 1) }, name)),
  );
  const day = h("input", { id: "refresh-schedule-day", name: "refresh-schedule-day", type: "number", min: "1", max: "28", value: "10", class: "input-short" });
  const monthField = h("div", { class: "field" }, h("label", { for: "refresh-schedule-month" }, "Mois"), month);
  const dayField = h(
    "div",
    { class: "field" },
    h("label", { for: "refresh-schedule-day" }, "À partir du jour"),
    h("p", { class: "hint", id: "refresh-schedule-day-hint" }, "De 1 à 28. La CAF met ses données à jour après le premier week-end du mois : le 10 est sûr."),
    day,
  );
  day.setAttribute("aria-describedby", "refresh-schedule-day-hint");
  const saveSchedule = h("button", { type: "submit", class: "button secondary", id: "refresh-schedule-save" }, "Enregistrer la programmation");
  const scheduleForm = h(
    "form",
    { class: "refresh-schedule", id: "refresh-schedule", "aria-labelledby": "refresh-schedule-title" },
    h("h2", { id: "refresh-schedule-title" }, "Programmation"),
    h("p", { class: "hint" }, "L'actualisation programmée s'exécute quand Guichet QF est ouvert (agent « système »), ou par la tâche planifiée « guichet-qf refresh ». Rien n'est enregistré dans les dossiers famille avant « Appliquer »."),
    h("div", { class: "field" }, h("label", { for: "refresh-schedule-kind" }, "Fréquence"), kind),
    monthField,
    dayField,
    context.isAdmin ? h("div", { class: "actions" }, saveSchedule) : h("p", { class: "hint" }, "Seul un administrateur peut changer la programmation."),
  );
  for (const input of [kind, month, day]) {
    input.disabled = !context.isAdmin;
  }
  const showFields = () => {
    monthField.hidden = kind.value !== "annuelle";
    dayField.hidden = kind.value === "aucune";
  };
  kind.addEventListener("change", showFields);
  scheduleForm.addEventListener("submit", (event) => {
    event.preventDefault();
    clearRegion(error);
    /** @type {RefreshSchedule} */
    const schedule = kind.value === "mensuelle"
      ? { kind: "mensuelle", jour: Number(day.value) }
      : kind.value === "annuelle"
        ? { kind: "annuelle", mois: Number(month.value), jour: Number(day.value) }
        : { kind: "aucune" };
    once(saveSchedule, async () => {
      try {
        await refreshScheduleSet(commune.id, schedule);
        announce(status, "Programmation enregistrée.");
      } catch (reason) {
        report(reason, error);
      }
    });
  });

  // The run.
  const startButton = h("button", { type: "button", class: "button", id: "refresh-start" }, "Actualiser maintenant");
  const progress = h("progress", { id: "refresh-progress", max: "1", value: "0", "aria-labelledby": "refresh-progress-label" });
  const progressLabel = h("p", { id: "refresh-progress-label" });
  const progressBlock = h("div", { class: "refresh-progress" }, progressLabel, progress);
  progressBlock.hidden = true;
  const summaryLine = h("p", { id: "refresh-summary" });
  const stopLine = h("p", { class: "refresh-stop", id: "refresh-stop" });
  const previewSlot = h("div", { id: "refresh-preview" });
  const runSection = h(
    "section",
    { class: "refresh-run", "aria-labelledby": "refresh-run-title" },
    h("h2", { id: "refresh-run-title" }, "Actualisation"),
    h("p", { class: "hint" }, "Les familles qui ont demandé à ne pas être actualisées ne sont pas interrogées. Une famille dont la caisse ne trouve plus le dossier est « à revoir » : elle n'est jamais écartée."),
    h("div", { class: "actions" }, startButton),
    progressBlock,
    summaryLine,
    stopLine,
    previewSlot,
  );

  startButton.addEventListener("click", () => {
    clearRegion(error);
    once(startButton, async () => {
      try {
        await refreshNow(commune.id);
        progressBlock.hidden = false;
        setText(progressLabel, "Actualisation demandée…");
        announce(status, "Actualisation lancée.");
      } catch (reason) {
        report(reason, error);
      }
    });
  });

  /** @type {number | null} */
  let previewedRun = null;

  /** @param {RefreshPreview} preview */
  function showPreview(preview) {
    const summary = preview.summary;
    const canApply = summary.state === "apercu" || summary.state === "arretee";
    const applyButton = h("button", { type: "button", class: "button", id: "refresh-apply" }, "Appliquer");
    applyButton.addEventListener("click", () => {
      clearRegion(error);
      once(applyButton, async () => {
        try {
          const written = await refreshApply(summary.run_id);
          announce(status, `${written} QF enregistré${written > 1 ? "s" : ""} dans les dossiers famille.`);
          previewedRun = null;
          await load();
        } catch (reason) {
          report(reason, error);
        }
      });
    });
    const parts = [
      h("h3", { id: "refresh-headline" }, preview.headline),
      preview.changes.length > 0
        ? h(
          "table",
          { class: "table", id: "refresh-changes" },
          h("caption", { class: "visually-hidden" }, "Familles dont le QF change"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Famille"), h("th", { scope: "col" }, "QF connu"), h("th", { scope: "col" }, "Nouveau QF"), h("th", { scope: "col" }, "Caisse"), h("th", { scope: "col" }, "Tranche"))),
          h("tbody", {}, preview.changes.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, c.previous === null ? "—" : qf(c.previous)), h("td", {}, qf(c.valeur)), h("td", {}, c.fournisseur === "CNAF" ? "CAF" : c.fournisseur), h("td", {}, c.tranches.length > 0 ? c.tranches.join(" ; ") : "—")))),
        )
        : null,
      preview.to_review.length > 0
        ? h(
          "section",
          { id: "refresh-review", "aria-labelledby": "refresh-review-title" },
          h("h3", { id: "refresh-review-title" }, `À revoir (${preview.to_review.length})`),
          h("ul", { class: "refresh-review-list" }, preview.to_review.map((r) => h("li", {}, h("strong", {}, r.name), ` — ${r.message}`))),
        )
        : null,
      canApply ? h("div", { class: "actions" }, applyButton) : null,
    ];
    previewSlot.replaceChildren(...parts.filter((part) => part !== null));
  }

  /** @param {RefreshView} view */
  function show(view) {
    if (view.commune_id !== commune.id) {
      return;
    }
    const latest = view.latest;
    if (view.running) {
      const done = view.progress?.done ?? 0;
      const total = view.progress?.total ?? 0;
      progressBlock.hidden = false;
      progress.max = Math.max(total, 1);
      progress.value = done;
      setText(progressLabel, total > 0 ? `${done} / ${total} familles` : "Préparation…");
      startButton.disabled = true;
    } else {
      progressBlock.hidden = true;
      startButton.disabled = !view.configured;
      setText(startButton, latest?.state === "arretee" || latest?.state === "en_cours" ? "Reprendre l'actualisation" : "Actualiser maintenant");
    }
    if (!view.configured) {
      setText(summaryLine, "Le jeton API Particulier de la commune n'est pas enregistré (Paramètres › Secrets) : l'actualisation est impossible.");
    } else if (latest) {
      const who = latest.trigger === "programmee" ? "programmée" : `lancée par ${latest.agent}`;
      setText(summaryLine, `Dernière actualisation (${who}, ${formatDateTime(latest.started_at)}, ${STATE_LABELS[latest.state]}) : ${latest.text}.`);
    } else {
      setText(summaryLine, "Aucune actualisation pour le moment.");
    }
    setText(stopLine, view.last_error ?? (latest?.state === "arretee" ? latest.stop_reason ?? "" : ""));
    stopLine.hidden = stopLine.textContent === "";
    const previewable = latest && !view.running && (latest.state === "apercu" || latest.state === "arretee");
    if (!previewable) {
      previewSlot.replaceChildren();
      previewedRun = null;
    } else if (previewedRun !== latest.run_id) {
      previewedRun = latest.run_id;
      refreshPreview(latest.run_id).then(showPreview).catch((reason) => report(reason, error));
    }
  }

  async function load() {
    const view = await refreshState(commune.id);
    const schedule = view.schedule;
    kind.value = schedule.kind;
    if (schedule.kind === "annuelle") {
      month.value = String(schedule.mois);
    }
    if (schedule.kind !== "aucune") {
      day.value = String(schedule.jour);
    }
    showFields();
    show(view);
  }

  main.replaceChildren(
    heading,
    h("p", { class: "view-commune" }, `Commune : ${commune.name}`),
    error,
    status,
    runSection,
    scheduleForm,
  );
  shownScreen = (view) => {
    if (main.contains(runSection)) {
      show(view);
    }
  };
  listen();
  load().catch((reason) => report(reason, error));
  return heading;
}
