// Confirmation dialogs for the actions that delete or replace data. They use
// the native <dialog> element opened with showModal(), which traps the focus
// inside the dialog, makes the rest of the page inert and closes on Escape.

import { h, uniqueId } from "./dom.js";

/**
 * The element dialogs are attached to. It is the current screen's root, so that
 * a dialog left open disappears with its screen (for example on an idle lock).
 * @type {HTMLElement | null}
 */
let host = null;

/** @param {HTMLElement} element */
export function setDialogHost(element) {
  host = element;
}

/**
 * Opens a modal dialog and returns it once closed with the value passed to close().
 * Focus goes back to the element that had it, if that element is still on screen.
 * @param {HTMLDialogElement} dialog
 * @param {HTMLElement} initialFocus
 * @returns {Promise<string>}
 */
export function openModal(dialog, initialFocus) {
  const previous = /** @type {HTMLElement | null} */ (document.activeElement);
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        dialog.remove();
        if (previous && previous.isConnected) {
          previous.focus();
        }
        resolve(dialog.returnValue);
      },
      { once: true },
    );
    (host ?? document.body).append(dialog);
    dialog.showModal();
    initialFocus.focus();
  });
}

/**
 * Asks the agent to confirm an action. The cancel button has the initial focus,
 * so that pressing Enter by reflex never deletes or replaces anything.
 * @param {{ title: string, message: string | string[], confirmLabel: string, cancelLabel?: string, danger?: boolean }} options
 * @returns {Promise<boolean>}
 */
export async function confirmAction({ title, message, confirmLabel, cancelLabel = "Annuler", danger = false }) {
  const titleId = uniqueId("dialog-title");
  const messageId = uniqueId("dialog-message");
  const paragraphs = Array.isArray(message) ? message : [message];
  const cancel = h("button", { type: "button", class: "button secondary", "data-action": "cancel" }, cancelLabel);
  const confirm = h(
    "button",
    { type: "button", class: danger ? "button danger" : "button", "data-action": "confirm" },
    confirmLabel,
  );
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": titleId, "aria-describedby": messageId },
    h("h2", { id: titleId }, title),
    h("div", { id: messageId }, paragraphs.map((text) => h("p", {}, text))),
    h("div", { class: "actions" }, confirm, cancel),
  );
  cancel.addEventListener("click", () => dialog.close("cancel"));
  confirm.addEventListener("click", () => dialog.close("confirm"));
  const result = await openModal(dialog, cancel);
  return result === "confirm";
}
