// Paramètres › Relevé Hubee: how often the open window asks Hubee for new
// dossiers. Hubee keeps every dossier until it is pulled, so the interval only
// changes how soon a dossier shows up; the scheduled command (README) covers
// the hours when Guichet QF is closed.

import { settingsGet, settingsUpdate } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";

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
  const status = statusRegion("sync-interval-status");
  const error = alertRegion("sync-interval-error");
  const body = h("div", {}, h("p", {}, "Chargement…"));

  async function load() {
    try {
      const settings = await settingsGet();
      const minutes = settings.sync_interval_minutes;
      body.replaceChildren(
        context.isAdmin
          ? form(minutes)
          : h("div", {}, h("p", { id: "sync-interval-current" }, describe(minutes)), h("p", { class: "note" }, "Seul un administrateur peut modifier cet intervalle.")),
      );
    } catch (reason) {
      body.replaceChildren();
      report(reason, error);
    }
  }

  /** @param {number} minutes */
  function form(minutes) {
    const current = h("p", { id: "sync-interval-current" }, describe(minutes));
    const field = textField({
      id: "sync-interval",
      label: "Intervalle entre deux relevés (en minutes)",
      hint: "Entre 1 et 1 440 minutes (24 heures). 10 minutes conviennent à la plupart des communes.",
      type: "number",
      inputmode: "numeric",
      value: String(minutes),
      extra: { min: "1", max: "1440", step: "1", class: "input-short" },
    });
    const submit = h("button", { type: "submit", class: "button", id: "sync-interval-submit" }, "Enregistrer");
    const element = h("form", { class: "form", id: "sync-interval-form", novalidate: true }, current, field.wrapper, h("div", { class: "actions" }, submit));
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      once(element, async () => {
        clearInvalid(element);
        clearRegion(error);
        const value = field.input.value.trim();
        if (value === "") {
          announce(error, "Indiquez un nombre de minutes.");
          flagInvalid(field.input);
          return;
        }
        try {
          const saved = await settingsUpdate({ ...(await settingsGet()), sync_interval_minutes: Number(value) });
          current.textContent = describe(saved.sync_interval_minutes);
          field.input.value = String(saved.sync_interval_minutes);
          announce(status, `Enregistré. ${describe(saved.sync_interval_minutes)}`);
        } catch (reason) {
          report(reason, error);
          flagInvalid(field.input);
        }
      });
    });
    return element;
  }

  load();
  return { element: h("div", {}, status, error, body) };
}
