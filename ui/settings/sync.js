// Paramètres › Relevé Hubee: how often the open window asks Hubee for new
// dossiers. Hubee keeps every dossier until it is pulled, so the interval only
// changes how soon a dossier shows up; the scheduled command (README) covers
// the hours when Guichet QF is closed.

import { settingsGet, settingsUpdate } from "../api.js";
import { alertRegion, announce, clearRegion, h, once, setText, statusRegion } from "../dom.js";
import { confirmAction } from "../dialogs.js";
import { report } from "../errors.js";
import { numberSettingSection } from "./common.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("./settings.js").Section} Section */

/** @param {number} minutes */
function describe(minutes) {
  return `Quand Guichet QF est ouvert, les nouveaux dossiers sont relevés sur Hubee toutes les ${minutes} minute${minutes > 1 ? "s" : ""}, et à tout moment avec « Relever maintenant » dans Dossiers.`;
}

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function syncSection(context) {
  const interval = numberSettingSection(context, {
    id: "sync-interval",
    key: "sync_interval_minutes",
    label: "Intervalle entre deux relevés (en minutes)",
    hint: "Entre 1 et 1 440 minutes (24 heures). 10 minutes conviennent à la plupart des communes.",
    max: 1440,
    emptyMessage: "Indiquez un nombre de minutes.",
    describe,
    readOnlyNote: "Seul un administrateur peut modifier cet intervalle.",
  });
  return { element: h("div", {}, interval.element, closeInFamily(context)) };
}

/** @param {boolean} on */
function describeClose(on) {
  return on
    ? "Un dossier est marqué « traité » sur Hubee dès que son quotient familial est dans le dossier famille, sans attendre un agent."
    : "Les dossiers restent « reçus » jusqu'à ce qu'un agent les marque « traité » ou « refusé » dans Dossiers.";
}

/**
 * The setting that closes dossiers once their QF is in the family file. Hubee
 * cannot undo "traité", so turning it on asks for a confirmation.
 * @param {ShellContext} context
 */
function closeInFamily(context) {
  const status = statusRegion("close-in-family-status");
  const error = alertRegion("close-in-family-error");
  const current = h("p", { id: "close-in-family-current" }, "Chargement…");
  const box = h("input", { type: "checkbox", id: "close-in-family", disabled: !context.isAdmin, "aria-describedby": "close-in-family-hint" });
  const field = h(
    "div",
    { class: "field checkbox" },
    box,
    h("label", { for: "close-in-family" }, "Marquer « traité » les dossiers dont le QF est dans le dossier famille"),
  );
  const hint = h(
    "p",
    { class: "hint", id: "close-in-family-hint" },
    context.isAdmin ? "Hubee ne permet pas d'annuler « traité ». Désactivé, chaque dossier attend la décision d'un agent." : "Seul un administrateur peut modifier ce réglage.",
  );
  box.addEventListener("change", () => {
    once(box, async () => {
      clearRegion(error);
      clearRegion(status);
      const wanted = box.checked;
      if (wanted) {
        const confirmed = await confirmAction({
          title: "Marquer automatiquement les dossiers « traité » ?",
          message: "Chaque dossier dont le quotient familial est enregistré dans le dossier famille sera marqué « traité » sur Hubee au prochain relevé. Hubee ne permet pas de revenir en arrière.",
          confirmLabel: "Activer",
        });
        if (!confirmed) {
          box.checked = false;
          return;
        }
      }
      try {
        const saved = await settingsUpdate({ ...(await settingsGet()), close_dossiers_in_family: wanted });
        box.checked = saved.close_dossiers_in_family;
        setText(current, describeClose(saved.close_dossiers_in_family));
        announce(status, `Enregistré. ${describeClose(saved.close_dossiers_in_family)}`);
      } catch (reason) {
        box.checked = !wanted;
        report(reason, error);
      }
    });
  });
  settingsGet()
    .then((settings) => {
      box.checked = settings.close_dossiers_in_family;
      setText(current, describeClose(settings.close_dossiers_in_family));
    })
    .catch((reason) => report(reason, error));
  return h("div", { class: "settings-subsection" }, h("h3", {}, "Clôture des dossiers"), current, field, hint, status, error);
}
