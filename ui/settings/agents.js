// Paramètres › Agents: who may open a session at the counter. Everyone sees
// the list and may change their own PIN; only an administrator sees the
// controls to add an agent, to deactivate or reactivate one, and to change
// someone else's PIN.

import { agentAdd, agentChangePin, agentSetActive, agentsList } from "../api.js";
import { openModal } from "../dialogs.js";
import {
  alertRegion,
  announce,
  clearInvalid,
  clearRegion,
  flagInvalid,
  h,
  once,
  radioGroup,
  scrollRegion,
  statusRegion,
  textField,
  uniqueId,
} from "../dom.js";
import { report } from "../errors.js";
import { ROLE_LABELS } from "../format.js";
import { firstEmpty, pinFields } from "../forms.js";
import { focusRegion } from "./common.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/Agent").Agent} Agent */
/** @typedef {import("../bindings/Role").Role} Role */
/** @typedef {import("./settings.js").Section} Section */

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function agentsSection(context) {
  const status = statusRegion("agents-status");
  const error = alertRegion("agents-error");
  const list = h("div", { id: "agents-list", ...scrollRegion("Agents enregistrés") }, h("p", {}, "Chargement des agents…"));

  async function load() {
    try {
      drawList(await agentsList());
    } catch (reason) {
      list.replaceChildren();
      report(reason, error);
    }
  }

  /** @param {Agent[]} agents */
  function drawList(agents) {
    list.replaceChildren(
      h(
        "table",
        { class: "table", id: "agents-table" },
        h("caption", { class: "visually-hidden" }, "Agents enregistrés"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Nom"),
            h("th", { scope: "col" }, "Rôle"),
            h("th", { scope: "col" }, "État"),
            h("th", { scope: "col" }, "Actions"),
          ),
        ),
        h("tbody", {}, agents.map(row)),
      ),
    );
  }

  /** @param {Agent} agent */
  function row(agent) {
    const isSelf = agent.id === context.agent.id;
    // Any agent may change their own PIN; everything else is for administrators.
    const actions = [];
    if (context.isAdmin) {
      const toggle = h(
        "button",
        { type: "button", class: "button secondary small", id: `agent-toggle-${agent.id}` },
        agent.active ? "Désactiver" : "Réactiver",
        h("span", { class: "visually-hidden" }, ` ${agent.name}`),
      );
      toggle.addEventListener("click", () => {
        once(toggle, () => setActive(agent, !agent.active));
      });
      actions.push(toggle);
    }
    if (context.isAdmin || isSelf) {
      const pin = h(
        "button",
        { type: "button", class: "button secondary small", id: `agent-pin-${agent.id}` },
        isSelf ? "Changer mon code PIN" : "Changer le code PIN",
        isSelf ? null : h("span", { class: "visually-hidden" }, ` de ${agent.name}`),
      );
      pin.addEventListener("click", () => {
        changePin(agent);
      });
      actions.push(pin);
    }
    return h(
      "tr",
      { "data-agent-id": String(agent.id) },
      h("th", { scope: "row" }, agent.name, isSelf ? h("span", { class: "tag" }, "vous") : null),
      h("td", {}, ROLE_LABELS[agent.role] ?? agent.role),
      h("td", {}, agent.active ? "Actif" : "Désactivé"),
      h("td", {}, actions.length > 0 ? h("div", { class: "row-actions" }, actions) : null),
    );
  }

  /**
   * @param {Agent} agent
   * @param {boolean} active
   */
  async function setActive(agent, active) {
    clearRegion(error);
    try {
      const saved = await agentSetActive(agent.id, active);
      announce(
        status,
        saved.active
          ? `${saved.name} est de nouveau proposé à l'écran « Qui est au guichet ? ».`
          : `${saved.name} est désactivé : il n'est plus proposé à l'écran « Qui est au guichet ? ».`,
      );
    } catch (reason) {
      report(reason, error);
      return;
    }
    await load();
    // The row was redrawn: focus goes back to the same button, whose label
    // now shows the opposite action.
    const again = document.getElementById(`agent-toggle-${agent.id}`);
    if (again) {
      again.focus();
    }
  }

  /** @param {Agent} agent */
  async function changePin(agent) {
    const titleId = uniqueId("pin-dialog-title");
    const pins = pinFields(uniqueId("change-pin"), { label: "Nouveau code PIN" });
    const title = agent.id === context.agent.id ? "Changer mon code PIN" : `Changer le code PIN de ${agent.name}`;
    const dialogError = alertRegion(uniqueId("pin-dialog-error"));
    const save = h("button", { type: "submit", class: "button" }, "Enregistrer");
    const cancel = h("button", { type: "button", class: "button secondary" }, "Annuler");
    const form = h("form", { class: "form", novalidate: true }, pins.elements, dialogError, h("div", { class: "actions" }, save, cancel));
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      form,
    );
    cancel.addEventListener("click", () => dialog.close("cancel"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      once(form, async () => {
        clearInvalid(form);
        clearRegion(dialogError);
        const empty = firstEmpty([pins.pin, pins.confirm]);
        if (empty) {
          announce(dialogError, `Le champ « ${empty.labels[0].textContent} » est à remplir.`);
          flagInvalid(empty, dialogError);
          return;
        }
        if (pins.pin.value !== pins.confirm.value) {
          announce(dialogError, "Les deux codes PIN saisis sont différents. Saisissez le même code dans les deux champs.");
          flagInvalid(pins.confirm, dialogError);
          return;
        }
        try {
          await agentChangePin(agent.id, pins.pin.value);
        } catch (reason) {
          report(reason, dialogError);
          return;
        }
        dialog.close("saved");
      });
    });
    const result = await openModal(dialog, pins.pin);
    if (result === "saved") {
      announce(status, `Le code PIN de ${agent.name} a été changé.`);
    }
  }

  function addForm() {
    if (!context.isAdmin) {
      return h(
        "p",
        { class: "note" },
        "Seul un administrateur peut ajouter un agent, le désactiver ou changer son code PIN. Vous pouvez changer le vôtre.",
      );
    }
    const title = h("h3", { id: "agent-form-heading" }, "Ajouter un agent");
    const name = textField({ id: "agent-form-name", label: "Prénom et nom" });
    const role = radioGroup({
      idPrefix: "agent-form-role",
      name: "agent-form-role",
      legend: "Rôle",
      checked: "agent",
      options: [
        { value: "agent", label: ROLE_LABELS.agent, hint: "Travaille au guichet : dossiers, recherches, familles." },
        {
          value: "administrateur",
          label: ROLE_LABELS.administrateur,
          hint: "Peut aussi gérer les agents, les communes, les clés d'accès et les sauvegardes.",
        },
      ],
    });
    const pins = pinFields("agent-form");
    const formError = alertRegion("agent-form-error");
    const submit = h("button", { type: "submit", class: "button", id: "agent-form-submit" }, "Ajouter l'agent");
    const form = h(
      "form",
      { class: "form", id: "agent-form", novalidate: true, "aria-labelledby": "agent-form-heading" },
      name.wrapper,
      role.fieldset,
      pins.elements,
      formError,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      once(form, async () => {
        clearInvalid(form);
        clearRegion(formError);
        const empty = firstEmpty([name.input, pins.pin, pins.confirm]);
        if (empty) {
          announce(formError, `Le champ « ${empty.labels[0].textContent} » est à remplir.`);
          flagInvalid(empty, formError);
          return;
        }
        if (pins.pin.value !== pins.confirm.value) {
          announce(formError, "Les deux codes PIN saisis sont différents. Saisissez le même code dans les deux champs.");
          flagInvalid(pins.confirm, formError);
          return;
        }
        try {
          const saved = await agentAdd({
            name: name.input.value.trim(),
            role: /** @type {Role} */ (role.value()),
            pin: pins.pin.value,
          });
          announce(status, `${saved.name} a été ajouté (${ROLE_LABELS[saved.role]}).`);
        } catch (reason) {
          report(reason, formError);
          return;
        }
        form.reset();
        await load();
        focusRegion(status);
      });
    });
    return h("div", { class: "subsection" }, title, form);
  }

  load();
  return { element: h("div", {}, status, error, list, addForm()) };
}
