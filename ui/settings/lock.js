// Paramètres › Verrouillage: how many idle minutes before the session locks
// itself. The backend stores and enforces the setting; the page's idle watch
// is told the new value so that both clocks agree.

import { setIdleMinutes } from "../idle.js";
import { numberSettingSection } from "./common.js";

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
  return numberSettingSection(context, {
    id: "idle",
    key: "idle_lock_minutes",
    label: "Délai avant verrouillage (en minutes)",
    hint: "Entre 1 et 240 minutes. Une fois verrouillé, Guichet QF revient à l'écran « Qui est au guichet ? » et le code PIN est demandé.",
    max: 240,
    emptyMessage: "Indiquez un nombre de minutes.",
    describe,
    readOnlyNote: "Seul un administrateur peut modifier ce délai.",
    onSaved: (saved) => {
      context.status.idle_lock_minutes = saved.idle_lock_minutes;
      setIdleMinutes(saved.idle_lock_minutes);
    },
  });
}
