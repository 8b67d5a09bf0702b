// Helpers shared by the Paramètres sections.

import { settingsGet, settingsUpdate } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, setText, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";

/**
 * Puts focus on a message region after the control that had focus went away
 * (for example a deleted row's button), so that keyboard users are not thrown
 * back to the top of the page and screen readers read the outcome.
 * @param {HTMLElement} region
 */
export function focusRegion(region) {
  region.setAttribute("tabindex", "-1");
  region.focus();
}

/** @typedef {import("../bindings/Settings").Settings} Settings */
/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */

/**
 * A section that shows and edits one whole number among the installation's
 * settings (idle lock, relevé interval, API Particulier rate). Administrators
 * get the form; agents read the current value. The other settings are sent
 * back as read, so that each section changes only its own.
 * @param {ShellContext} context
 * @param {object} options
 * @param {string} options.id prefix of the element ids
 * @param {"idle_lock_minutes" | "sync_interval_minutes" | "particulier_requests_per_second"} options.key
 * @param {string} options.label
 * @param {string} options.hint
 * @param {number} options.max
 * @param {string} options.emptyMessage what to say when the field is left empty
 * @param {(value: number) => string} options.describe the sentence under the heading
 * @param {string} options.readOnlyNote
 * @param {(settings: Settings) => void} [options.onSaved]
 * @returns {{ element: HTMLElement }}
 */
export function numberSettingSection(context, { id, key, label, hint, max, emptyMessage, describe, readOnlyNote, onSaved }) {
  const status = statusRegion(`${id}-status`);
  const error = alertRegion(`${id}-error`);
  const body = h("div", {}, h("p", {}, "Chargement…"));

  /** @param {number} number */
  function form(number) {
    const current = h("p", { id: `${id}-current` }, describe(number));
    const field = textField({
      id: `${id}-value`,
      label,
      hint,
      type: "number",
      inputmode: "numeric",
      value: String(number),
      extra: { min: "1", max: String(max), step: "1", class: "input-short" },
    });
    const submit = h("button", { type: "submit", class: "button", id: `${id}-submit` }, "Enregistrer");
    const element = h("form", { class: "form", id: `${id}-form`, novalidate: true }, current, field.wrapper, h("div", { class: "actions" }, submit));
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      once(element, async () => {
        clearInvalid(element);
        clearRegion(error);
        const value = field.input.value.trim();
        if (value === "") {
          announce(error, emptyMessage);
          flagInvalid(field.input, error);
          return;
        }
        try {
          const saved = await settingsUpdate({ ...(await settingsGet()), [key]: Number(value) });
          setText(current, describe(saved[key]));
          field.input.value = String(saved[key]);
          onSaved?.(saved);
          announce(status, `Enregistré. ${describe(saved[key])}`);
        } catch (reason) {
          report(reason, error);
          flagInvalid(field.input, error);
        }
      });
    });
    return element;
  }

  settingsGet()
    .then((settings) => {
      const number = settings[key];
      body.replaceChildren(
        context.isAdmin
          ? form(number)
          : h("div", {}, h("p", { id: `${id}-current` }, describe(number)), h("p", { class: "note" }, readOnlyNote)),
      );
    })
    .catch((reason) => {
      body.replaceChildren();
      report(reason, error);
    });
  return { element: h("div", {}, status, error, body) };
}
