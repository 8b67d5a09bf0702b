// Paramètres › Relevé Hubee: how often the open window asks Hubee for new
// dossiers. Hubee keeps every dossier until it is pulled, so the interval only
// changes how soon a dossier shows up; the scheduled command (README) covers
// the hours when Guichet QF is closed.

import { numberSettingSection } from "./common.js";

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
  return numberSettingSection(context, {
    id: "sync-interval",
    key: "sync_interval_minutes",
    label: "Intervalle entre deux relevés (en minutes)",
    hint: "Entre 1 et 1 440 minutes (24 heures). 10 minutes conviennent à la plupart des communes.",
    max: 1440,
    emptyMessage: "Indiquez un nombre de minutes.",
    describe,
    readOnlyNote: "Seul un administrateur peut modifier cet intervalle.",
  });
}
