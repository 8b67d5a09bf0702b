// Paramètres › Protection des données (RGPD): what the commune's register entry
// (RGPD art. 30) and its information notice for families need that only a
// person knows (the mayor, the DPO, the délibération, the recipients, the
// addresses), and the buttons that make both documents as a PDF or as editable
// text. The retention periods they state come from « Conservation des données ».
// Administrators save the settings; every agent makes the documents, which the
// backend refuses (naming the missing fields) until the settings are complete.

import { rgpdDocumentOpen, rgpdDocumentSaveAs, rgpdSettingsCheck, rgpdSettingsGet, rgpdSettingsSave } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, h, once, setText, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";
import { fileButton } from "../files.js";
import { formatDateTime, formatSize } from "../format.js";

/** @typedef {import("../bindings/RgpdSettings").RgpdSettings} RgpdSettings */
/** @typedef {import("../bindings/RgpdView").RgpdView} RgpdView */
/** @typedef {import("../bindings/FieldProblem").FieldProblem} FieldProblem */
/** @typedef {import("../bindings/RgpdDocument").RgpdDocument} RgpdDocument */
/** @typedef {import("../bindings/RgpdFormat").RgpdFormat} RgpdFormat */
/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("./settings.js").Section} Section */

/**
 * The fields of the form, in the order of the backend's messages.
 * @type {{ key: Exclude<keyof RgpdSettings, "recipients" | "deliberation_date">, label: string, hint?: string, lines?: boolean, type?: string }[]}
 */
const TEXT_FIELDS = [
  { key: "mayor_name", label: "Nom du maire (responsable du traitement)" },
  { key: "dpo_name", label: "Délégué à la protection des données (nom)", hint: "DataPass demande une autre personne que le maire et que le demandeur." },
  { key: "dpo_email", label: "E-mail du délégué", type: "email", hint: "L'e-mail, l'adresse postale, ou les deux." },
  { key: "dpo_address", label: "Adresse postale du délégué", lines: true },
  { key: "deliberation_number", label: "Numéro de la délibération fixant les tarifs selon le QF" },
];

const TEXT_FIELDS_AFTER = [
  { key: "services", label: "Services concernés", hint: "Par défaut, ceux de l'affiche." },
  { key: "postal_address", label: "Adresse postale de la mairie", lines: true },
  { key: "requests_email", label: "E-mail pour les demandes des familles", type: "email", hint: "Accès, rectification, refus de l'actualisation. Par défaut, celui de l'affiche." },
];

/**
 * A labelled field with its own error line; a textarea when `lines`.
 * @param {{ key: string, label: string, hint?: string, lines?: boolean, type?: string }} spec
 * @param {string} value
 * @param {boolean} disabled
 */
function field(spec, value, disabled) {
  const id = `rgpd-${spec.key}`;
  const errorId = `${id}-error`;
  if (!spec.lines) {
    const made = textField({ id, label: spec.label, hint: spec.hint, type: spec.type ?? "text", value, required: false, extra: { disabled, "aria-errormessage": errorId } });
    made.wrapper.append(h("p", { class: "field-error", id: errorId }));
    return { wrapper: made.wrapper, input: /** @type {HTMLInputElement | HTMLTextAreaElement} */ (made.input) };
  }
  const hintId = spec.hint ? `${id}-hint` : undefined;
  const input = h("textarea", { id, name: id, rows: "3", disabled, "aria-describedby": hintId, "aria-errormessage": errorId });
  input.value = value;
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { for: id }, spec.label),
    spec.hint ? h("p", { class: "hint", id: hintId }, spec.hint) : null,
    input,
    h("p", { class: "field-error", id: errorId }),
  );
  return { wrapper, input };
}

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function rgpdSection(context) {
  const status = statusRegion("rgpd-status");
  const error = alertRegion("rgpd-error");
  const body = h("div", {}, h("p", {}, "Chargement…"));

  function load() {
    clearRegion(error);
    const commune = context.currentCommune();
    if (!commune) {
      body.replaceChildren(h("p", {}, "Choisissez d'abord une commune dans l'en-tête."));
      return;
    }
    rgpdSettingsGet(commune.id)
      .then((view) => draw(commune.id, view))
      .catch((reason) => report(reason, error));
  }

  /**
   * @param {number} communeId
   * @param {RgpdView} view
   */
  function draw(communeId, view) {
    const disabled = !context.isAdmin;
    const settings = view.settings;
    const before = TEXT_FIELDS.map((spec) => ({ spec, ...field(spec, settings[spec.key], disabled) }));
    const date = field({ key: "deliberation_date", label: "Date de la délibération", type: "date" }, settings.deliberation_date ?? "", disabled);
    const recipients = field(
      { key: "recipients", label: "Destinataires des données (un par ligne)", hint: "DataPass demande que les destinataires soient nommés.", lines: true },
      settings.recipients.join("\n"),
      disabled,
    );
    const after = TEXT_FIELDS_AFTER.map((spec) => ({ spec, ...field(spec, settings[spec.key], disabled) }));
    /** @type {Record<string, HTMLInputElement | HTMLTextAreaElement>} */
    const controls = { deliberation_date: date.input, recipients: recipients.input };
    for (const item of [...before, ...after]) {
      controls[item.spec.key] = item.input;
    }
    const warnings = h("div", { id: "rgpd-warnings", role: "status" });

    /** @param {string[]} list */
    function showWarnings(list) {
      warnings.replaceChildren(...list.map((warning) => h("p", { class: "warning" }, warning)));
    }
    showWarnings(view.warnings);

    /** @returns {RgpdSettings} */
    function typed() {
      return {
        mayor_name: controls.mayor_name.value,
        dpo_name: controls.dpo_name.value,
        dpo_email: controls.dpo_email.value,
        dpo_address: controls.dpo_address.value,
        deliberation_number: controls.deliberation_number.value,
        deliberation_date: controls.deliberation_date.value || null,
        services: controls.services.value,
        recipients: controls.recipients.value.split("\n"),
        postal_address: controls.postal_address.value,
        requests_email: controls.requests_email.value,
      };
    }

    /**
     * Writes each problem under its field.
     * @param {HTMLElement} scope
     * @param {FieldProblem[]} problems
     */
    function showProblems(scope, problems) {
      for (const line of scope.querySelectorAll(".field-error")) {
        line.textContent = "";
      }
      clearInvalid(scope);
      for (const problem of problems) {
        const line = scope.querySelector(`#rgpd-${problem.field}-error`);
        if (line) {
          setText(line, problem.message);
        }
        controls[problem.field]?.setAttribute("aria-invalid", "true");
      }
    }

    const fields = h("div", {}, ...before.map((b) => b.wrapper), date.wrapper, recipients.wrapper, ...after.map((a) => a.wrapper));
    const saved = view.saved_at
      ? h("p", { class: "hint", id: "rgpd-saved" }, `Enregistrés le ${formatDateTime(view.saved_at)} par ${view.saved_by ?? "—"}.`)
      : h("p", { class: "hint", id: "rgpd-saved" }, "Pas encore enregistrés : valeurs proposées d'après l'affiche.");
    const missing = view.problems.length > 0
      ? h("p", { class: "hint", id: "rgpd-missing" }, `Les documents seront disponibles une fois ces paramètres complétés (${view.problems.length} champ${view.problems.length > 1 ? "s" : ""} à remplir).`)
      : null;

    let form;
    if (context.isAdmin) {
      const submit = h("button", { type: "submit", class: "button", id: "rgpd-submit" }, "Enregistrer les paramètres RGPD");
      form = h("form", { class: "form", id: "rgpd-form", novalidate: true }, fields, warnings, h("div", { class: "actions" }, submit));
      const theForm = form;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        once(theForm, async () => {
          clearRegion(error);
          clearRegion(status);
          const wanted = typed();
          try {
            const check = await rgpdSettingsCheck(wanted);
            showWarnings(check.warnings);
            showProblems(theForm, check.problems);
            if (check.problems.length > 0) {
              announce(error, check.problems.length > 1
                ? `Les paramètres ne sont pas enregistrés : ${check.problems.length} champs sont à corriger.`
                : `Les paramètres ne sont pas enregistrés : ${check.problems[0].message}`);
              controls[check.problems[0].field]?.focus();
              return;
            }
            const stored = await rgpdSettingsSave(communeId, wanted);
            draw(communeId, stored);
            announce(status, "Paramètres RGPD enregistrés.");
          } catch (reason) {
            report(reason, error);
          }
        });
      });
    } else {
      form = h("div", {}, fields, warnings, h("p", { class: "hint" }, "Seul un administrateur peut modifier ces paramètres."));
    }

    body.replaceChildren(saved, missing ?? "", form, documentsPanel(communeId));
  }

  /**
   * The register's and the notice's buttons, each as PDF or editable text.
   * @param {number} communeId
   */
  function documentsPanel(communeId) {
    /**
     * @param {string} id
     * @param {string} label
     * @param {RgpdDocument} document
     * @param {RgpdFormat} format
     * @param {boolean} saveAs
     */
    const button = (id, label, document, format, saveAs) => {
      const made = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: saveAs ? "button secondary" : "button", id }, label));
      fileButton(made, {
        error,
        status,
        action: () => (saveAs ? rgpdDocumentSaveAs(document, format) : rgpdDocumentOpen(document, format)),
        done: (printed) => saveAs
          ? `Document enregistré dans « ${printed.path} » (${formatSize(printed.bytes)}).`
          : `Le document est ouvert (${printed.path}). Il est inscrit au journal des accès.`,
      });
      return made;
    };
    /** @type {RgpdDocument} */
    const registre = { kind: "registre", commune_id: communeId };
    /** @type {RgpdDocument} */
    const notice = { kind: "notice", commune_id: communeId };
    return h(
      "div",
      { class: "settings-subsection" },
      h("h3", {}, "Documents"),
      h("p", {}, "Générés d'après ces paramètres et les durées de « Conservation des données ». Le texte modifiable s'ouvre dans un traitement de texte."),
      h("h4", {}, "Registre des traitements (article 30 du RGPD)"),
      h(
        "div",
        { class: "actions" },
        button("rgpd-registre-pdf", "Registre des traitements — PDF", registre, "pdf", false),
        button("rgpd-registre-texte", "Registre des traitements — texte modifiable", registre, "texte", false),
        button("rgpd-registre-save", "Enregistrer le registre (PDF) sous…", registre, "pdf", true),
      ),
      h("h4", {}, "Note d'information des familles"),
      h("p", { class: "hint" }, "Pour le guichet, le site internet et le dossier d'inscription."),
      h(
        "div",
        { class: "actions" },
        button("rgpd-notice-pdf", "Note d'information des familles — PDF", notice, "pdf", false),
        button("rgpd-notice-texte", "Note d'information des familles — texte modifiable", notice, "texte", false),
        button("rgpd-notice-save", "Enregistrer la note (PDF) sous…", notice, "pdf", true),
      ),
    );
  }

  load();
  const element = h(
    "div",
    {},
    h("p", {}, "La fiche du registre des traitements et la note d'information des familles, générées pour la commune choisie dans l'en-tête."),
    body,
    status,
    error,
  );
  return { element, communesChanged: load };
}
