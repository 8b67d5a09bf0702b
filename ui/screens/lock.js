// Lock screen: "Qui est au guichet ?". Several agents share the counter PC, so
// each one opens a named session with a PIN; this is also where the app comes
// back after "Verrouiller" or an idle lock.

import { agentsList, sessionOpen } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, textField } from "../dom.js";
import { report, takeOver } from "../errors.js";

/** @typedef {import("../app.js").App} App */
/** @typedef {import("../bindings/Agent").Agent} Agent */

/**
 * @param {App} app
 * @param {boolean} demo The demonstration is running: its agent's PIN is public.
 */
export async function renderLock(app, demo) {
  const heading = h("h1", { id: "lock-heading" }, "Qui est au guichet ?");
  const error = alertRegion("lock-error");
  const body = h("div", { class: "lock-body" }, h("p", { role: "status" }, "Chargement de la liste des agents…"));
  const screen = h("main", { class: "screen screen-narrow", id: "lock-screen" }, heading, body);
  app.mount(screen, "Qui est au guichet ?", heading);

  /** @type {Agent[]} */
  let agents;
  try {
    agents = (await agentsList()).filter((agent) => agent.active);
  } catch (reason) {
    if (!takeOver(reason)) {
      body.replaceChildren(error);
      report(reason, error);
    }
    return;
  }

  if (agents.length === 0) {
    body.replaceChildren(
      h("p", {}, "Aucun agent actif n'est enregistré. Contactez l'administrateur de Guichet QF de la mairie."),
    );
    return;
  }

  const picker = h(
    "fieldset",
    { class: "radios agent-picker" },
    h("legend", {}, "Agent"),
    agents.map((agent) => {
      const id = `lock-agent-${agent.id}`;
      const input = h("input", { type: "radio", id, name: "lock-agent", value: String(agent.id) });
      // With a single agent there is nothing to choose: the PIN is all that is asked.
      input.checked = agents.length === 1;
      return h("div", { class: "radio" }, input, h("label", { for: id }, agent.name));
    }),
  );
  const pin = textField({
    id: "lock-pin",
    label: "Code PIN",
    type: "password",
    inputmode: "numeric",
    autocomplete: "off",
  });
  const submit = h("button", { type: "submit", class: "button", id: "lock-submit" }, "Ouvrir");
  const form = h("form", { class: "form", id: "lock-form", novalidate: true }, picker, pin.wrapper, error, h("div", { class: "actions" }, submit));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    once(form, async () => {
      clearInvalid(form);
      clearRegion(error);
      const selected = /** @type {HTMLInputElement | null} */ (picker.querySelector("input:checked"));
      if (!selected) {
        announce(error, "Choisissez votre nom dans la liste des agents.");
        /** @type {HTMLInputElement} */ (picker.querySelector("input")).focus();
        return;
      }
      if (pin.input.value === "") {
        announce(error, "Saisissez votre code PIN.");
        flagInvalid(pin.input, error);
        return;
      }
      try {
        const status = await sessionOpen(Number(selected.value), pin.input.value);
        pin.input.value = "";
        app.route(status);
      } catch (reason) {
        // The PIN is cleared in every case so that a wrong one is not left
        // sitting in the field for the next person at the desk.
        pin.input.value = "";
        report(reason, error);
        if (pin.input.isConnected) {
          flagInvalid(pin.input, error);
        }
      }
    });
  });

  const demoHint = h(
    "p",
    { class: "hint", id: "lock-demo-hint" },
    "Démonstration : le code PIN de l'agent de démonstration est 0000.",
  );
  body.replaceChildren(...(demo ? [demoHint] : []), form);
}
