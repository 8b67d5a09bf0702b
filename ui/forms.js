// Form parts used both by the first-run wizard and by Paramètres, so that a
// commune or an agent is described with the same words and the same help texts
// wherever it is entered.

import { h, radioGroup, textField } from "./dom.js";
import { ENVIRONMENT_LABELS } from "./format.js";

/** @typedef {import("./bindings/NewCommune").NewCommune} NewCommune */
/** @typedef {import("./bindings/Environment").Environment} Environment */

/**
 * Fields of a commune. `simulateur` is offered only when the commune already
 * uses it: it belongs to the demonstration mode, not to a real setup.
 * @param {string} prefix id prefix, unique on the screen
 * @param {NewCommune} values
 */
export function communeFields(prefix, values) {
  const name = textField({
    id: `${prefix}-name`,
    label: "Nom de la commune",
    value: values.name,
    autocomplete: "off",
  });
  const siret = textField({
    id: `${prefix}-siret`,
    label: "SIRET de la mairie",
    hint: "14 chiffres. Il figure sur les factures et les bulletins de paie de la mairie, ou sur annuaire-entreprises.data.gouv.fr (rechercher le nom de la commune).",
    value: values.siret,
    inputmode: "numeric",
  });
  const cog = textField({
    id: `${prefix}-cog`,
    label: "Code officiel géographique (code INSEE de la commune)",
    hint: "5 caractères, par exemple 04107 (ou 2A004 en Corse). Ce n'est pas le code postal. Il figure sur insee.fr : rechercher le nom de la commune.",
    value: values.cog,
  });
  /** @type {Environment[]} */
  const environments = values.environment === "simulateur"
    ? ["production", "bac_a_sable", "simulateur"]
    : ["production", "bac_a_sable"];
  const hints = {
    production: "Les vraies démarches des familles de la commune.",
    bac_a_sable: "Des données d'essai fournies par l'État, pour se former sans toucher aux vraies familles.",
    simulateur: "Des données fictives, sans connexion aux services de l'État.",
  };
  const environment = radioGroup({
    idPrefix: `${prefix}-env`,
    name: `${prefix}-env`,
    legend: "Environnement",
    checked: values.environment,
    options: environments.map((value) => ({ value, label: ENVIRONMENT_LABELS[value], hint: hints[value] })),
  });
  return {
    elements: [name.wrapper, siret.wrapper, cog.wrapper, environment.fieldset],
    inputs: { name: name.input, siret: siret.input, cog: cog.input },
    /**
     * Reads the form. Spaces typed inside a SIRET ("210 401 071 00019", as it
     * is often printed) are removed; the backend checks everything else.
     * @returns {NewCommune}
     */
    read() {
      return {
        name: name.input.value.trim(),
        siret: siret.input.value.replace(/\s+/g, ""),
        cog: cog.input.value.trim(),
        environment: /** @type {Environment} */ (environment.value()),
      };
    },
  };
}

/**
 * Returns the first empty field among the given ones, for the one client-side
 * check the forms do before calling the backend.
 * @param {HTMLInputElement[]} inputs
 */
export function firstEmpty(inputs) {
  return inputs.find((input) => input.value.trim() === "");
}

/**
 * A PIN with its confirmation. The PIN is typed in a password field so that a
 * family standing at the counter cannot read it over the agent's shoulder.
 * @param {string} prefix
 * @param {{ label?: string, value?: string, confirmValue?: string }} [options]
 */
export function pinFields(prefix, { label = "Code PIN", value = "", confirmValue = "" } = {}) {
  const pin = textField({
    id: `${prefix}-pin`,
    label,
    hint: "De 4 à 8 chiffres. Il sera demandé à chaque ouverture de session au guichet.",
    type: "password",
    inputmode: "numeric",
    autocomplete: "new-password",
    value,
  });
  const confirm = textField({
    id: `${prefix}-pin-confirm`,
    label: "Confirmation du code PIN",
    hint: "Saisissez le même code une seconde fois.",
    type: "password",
    inputmode: "numeric",
    autocomplete: "new-password",
    value: confirmValue,
  });
  return {
    elements: [pin.wrapper, confirm.wrapper],
    pin: pin.input,
    confirm: confirm.input,
  };
}

/**
 * Paragraph of help placed at the top of a form.
 * @param {string} text
 */
export function intro(text) {
  return h("p", { class: "intro" }, text);
}
