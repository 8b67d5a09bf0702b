// Paramètres › Communes: the list of communes served by this installation, and
// for an administrator the form to add or edit one, and deletion.

import { communeAdd, communeDelete, communeUpdate } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, focusHeading, h, once, scrollRegion, statusRegion } from "../dom.js";
import { report } from "../errors.js";
import { ENVIRONMENT_LABELS, formatDateTime } from "../format.js";
import { communeFields, firstEmpty } from "../forms.js";
import { focusRegion } from "./common.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/Commune").Commune} Commune */
/** @typedef {import("./settings.js").Section} Section */

/**
 * @param {ShellContext} context
 * @param {() => void} communesChanged tells the other sections to redraw
 * @returns {Section}
 */
export function communesSection(context, communesChanged) {
  const status = statusRegion("communes-status");
  const error = alertRegion("communes-error");
  const list = h("div", { id: "communes-list", ...scrollRegion("Communes enregistrées") });
  const formSlot = h("div", { class: "form-slot" });
  /** @type {Commune | null} */
  let editing = null;

  async function reload() {
    try {
      await context.reloadCommunes();
    } catch (reason) {
      report(reason, error);
    }
    drawList();
    communesChanged();
  }

  function drawList() {
    const communes = context.communes();
    if (communes.length === 0) {
      list.replaceChildren(h("p", {}, "Aucune commune n'est enregistrée."));
      return;
    }
    list.replaceChildren(
      h(
        "table",
        { class: "table", id: "communes-table" },
        h("caption", { class: "visually-hidden" }, "Communes enregistrées"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Nom"),
            h("th", { scope: "col" }, "SIRET"),
            h("th", { scope: "col" }, "Code officiel géographique"),
            h("th", { scope: "col" }, "Environnement"),
            h("th", { scope: "col" }, "Ajoutée le"),
            context.isAdmin ? h("th", { scope: "col" }, "Actions") : null,
          ),
        ),
        h("tbody", {}, communes.map(row)),
      ),
    );
  }

  /** @param {Commune} commune */
  function row(commune) {
    let actions = null;
    if (context.isAdmin) {
      const edit = h(
        "button",
        { type: "button", class: "button secondary small", id: `commune-edit-${commune.id}` },
        "Modifier",
        h("span", { class: "visually-hidden" }, ` la commune ${commune.name}`),
      );
      edit.addEventListener("click", () => {
        editing = commune;
        clearRegion(status);
        drawForm(true);
      });
      const remove = h(
        "button",
        { type: "button", class: "button danger-secondary small", id: `commune-delete-${commune.id}` },
        "Supprimer",
        h("span", { class: "visually-hidden" }, ` la commune ${commune.name}`),
      );
      remove.addEventListener("click", () => {
        once(remove, () => deleteCommune(commune));
      });
      actions = h("td", {}, h("div", { class: "row-actions" }, edit, remove));
    }
    return h(
      "tr",
      { "data-commune-id": String(commune.id) },
      h("th", { scope: "row" }, commune.name),
      h("td", { class: "mono" }, commune.siret),
      h("td", { class: "mono" }, commune.cog),
      h("td", {}, ENVIRONMENT_LABELS[commune.environment] ?? commune.environment),
      h("td", {}, formatDateTime(commune.created_at)),
      actions,
    );
  }

  /** @param {Commune} commune */
  async function deleteCommune(commune) {
    const confirmed = await confirmAction({
      title: `Supprimer la commune « ${commune.name} » ?`,
      message: [
        "Une sauvegarde est faite avant la suppression.",
        "La commune et ses clés d'accès ne seront plus utilisables dans Guichet QF.",
      ],
      confirmLabel: "Supprimer la commune",
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    clearRegion(error);
    try {
      await communeDelete(commune.id);
    } catch (reason) {
      report(reason, error);
      return;
    }
    if (editing && editing.id === commune.id) {
      editing = null;
      drawForm(false);
    }
    announce(status, `La commune « ${commune.name} » a été supprimée.`);
    await reload();
    focusRegion(status);
  }

  /** @param {boolean} moveFocus */
  function drawForm(moveFocus) {
    if (!context.isAdmin) {
      formSlot.replaceChildren(
        h("p", { class: "note" }, "Seul un administrateur peut ajouter, modifier ou supprimer une commune."),
      );
      return;
    }
    const current = editing;
    const title = h(
      "h3",
      { id: "commune-form-heading" },
      current ? `Modifier la commune « ${current.name} »` : "Ajouter une commune",
    );
    const fields = communeFields(
      "commune-form",
      current
        ? { name: current.name, siret: current.siret, cog: current.cog, environment: current.environment }
        : { name: "", siret: "", cog: "", environment: "production" },
    );
    const formError = alertRegion("commune-form-error");
    const submit = h(
      "button",
      { type: "submit", class: "button", id: "commune-form-submit" },
      current ? "Enregistrer les modifications" : "Ajouter la commune",
    );
    const cancel = h("button", { type: "button", class: "button secondary", id: "commune-form-cancel" }, "Annuler");
    cancel.addEventListener("click", () => {
      editing = null;
      drawForm(false);
      const editButton = current && document.getElementById(`commune-edit-${current.id}`);
      if (editButton) {
        editButton.focus();
      } else {
        focusHeading(title);
      }
    });
    const form = h(
      "form",
      { class: "form", id: "commune-form", novalidate: true, "aria-labelledby": "commune-form-heading" },
      fields.elements,
      formError,
      h("div", { class: "actions" }, submit, current ? cancel : null),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      once(form, async () => {
        clearInvalid(form);
        clearRegion(formError);
        const empty = firstEmpty([fields.inputs.name, fields.inputs.siret, fields.inputs.cog]);
        if (empty) {
          announce(formError, `Le champ « ${empty.labels[0].textContent} » est à remplir.`);
          flagInvalid(empty, formError);
          return;
        }
        const values = fields.read();
        try {
          const saved = current ? await communeUpdate(current.id, values) : await communeAdd(values);
          announce(
            status,
            current
              ? `Les modifications de la commune « ${saved.name} » ont été enregistrées.`
              : `La commune « ${saved.name} » a été ajoutée.`,
          );
        } catch (reason) {
          report(reason, formError);
          return;
        }
        editing = null;
        drawForm(false);
        await reload();
        focusRegion(status);
      });
    });
    formSlot.replaceChildren(h("div", { class: "subsection" }, title, form));
    if (moveFocus) {
      focusHeading(title);
      title.scrollIntoView({ block: "start" });
    }
  }

  drawList();
  drawForm(false);

  return {
    element: h("div", {}, status, error, list, formSlot),
  };
}
