// Paramètres › Verrouillage: how many idle minutes before the session locks
// itself. The backend stores and enforces the setting; the page's idle watch
// is told the new value so that both clocks agree.

import { settingsGet, settingsUpdate } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";
import { setIdleMinutes } from "../idle.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("./settings.js").Section} Section */

/** @param {number} minutes */
function describe(minutes) {
  return `La session se verrouille après ${minutes} minute${minutes > 1 ? "s" : ""} sans activité au clavier ni à la souris.`;
}

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function lockSection(context) {
  const status = statusRegion("idle-status");
  const error = alertRegion("idle-error");
  const body = h("div", {}, h("p", {}, "Chargement…"));

  async function load() {
    try {
      const settings = await settingsGet();
      body.replaceChildren(context.isAdmin ? form(settings.idle_lock_minutes) : readOnly(settings.idle_lock_minutes));

    } catch (reason) {
      body.replaceChildren();
      report(reason, error);
    }
  }

  /** @param {number} minutes */
  function readOnly(minutes) {
    return h(
      "div",
      {},
      h("p", { id: "idle-current" }, describe(minutes)),
      h("p", { class: "note" }, "Seul un administrateur peut modifier ce délai."),
    );
  }

  /** @param {number} minutes */
  function form(minutes) {
    const current = h("p", { id: "idle-current" }, describe(minutes));
    const field = textField({
      id: "idle-minutes",
      label: "Délai avant verrouillage (en minutes)",
      hint: "Entre 1 et 240 minutes. Une fois verrouillé, Guichet QF revient à l'écran « Qui est au guichet ? » et le code PIN est demandé.",
      type: "number",
      inputmode: "numeric",
      value: String(minutes),
      extra: { min: "1", max: "240", step: "1", class: "input-short" },
    });
    const submit = h("button", { type: "submit", class: "button", id: "idle-submit" }, "Enregistrer");
    const element = h("form", { class: "form", id: "idle-form", novalidate: true }, current, field.wrapper, h("div", { class: "actions" }, submit));
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
          // The other settings are sent back as read, so that this form changes only its own.
          const saved = await settingsUpdate({ ...(await settingsGet()), idle_lock_minutes: Number(value) });
          context.status.idle_lock_minutes = saved.idle_lock_minutes;
          setIdleMinutes(saved.idle_lock_minutes);
          current.textContent = describe(saved.idle_lock_minutes);
          field.input.value = String(saved.idle_lock_minutes);
          announce(status, `Enregistré. ${describe(saved.idle_lock_minutes)}`);
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
