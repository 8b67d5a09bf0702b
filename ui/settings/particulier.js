// Paramètres › API Particulier: how many calls per second Guichet QF allows
// itself with one token. API Particulier accepts 20 per second per token and
// blocks the PC's address for 12 hours beyond that; every lookup of the
// installation (counter now, the refresh of known families later) shares this
// budget, and the backend never goes above 18.

import { numberSettingSection } from "./common.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("./settings.js").Section} Section */

/** @param {number} rate */
function describe(rate) {
  return `Guichet QF fait au plus ${rate} appel${rate > 1 ? "s" : ""} par seconde à API Particulier avec le jeton d'une commune, toutes consultations confondues.`;
}

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function particulierSection(context) {
  return numberSettingSection(context, {
    id: "particulier-rate",
    key: "particulier_requests_per_second",
    label: "Appels par seconde au plus",
    hint: "Entre 1 et 18 (10 conseillé). API Particulier en accepte 20 au plus et bloque le poste pendant 12 heures au-delà.",
    max: 18,
    emptyMessage: "Indiquez un nombre d'appels par seconde.",
    describe,
    readOnlyNote: "Seul un administrateur peut modifier ce débit.",
  });
}
