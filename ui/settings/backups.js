// Paramètres › Sauvegardes: the backups the backend keeps in the data folder,
// a button to make one now, and restoration (for an administrator).

import { backupCreate, backupsList } from "../api.js";
import { backupsTable } from "../backups.js";
import { alertRegion, announce, clearRegion, h, once, scrollRegion, statusRegion } from "../dom.js";
import { report } from "../errors.js";
import { formatDateTime } from "../format.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("./settings.js").Section} Section */

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function backupsSection(context) {
  const status = statusRegion("backups-status");
  const error = alertRegion("backups-error");
  const list = h("div", { id: "backups-list", ...scrollRegion("Sauvegardes disponibles") }, h("p", {}, "Chargement des sauvegardes…"));
  const create = h("button", { type: "button", class: "button", id: "backup-create" }, "Faire une sauvegarde maintenant");

  async function load() {
    try {
      const backups = await backupsList();
      list.replaceChildren(
        backupsTable({
          backups,
          canRestore: context.isAdmin,
          errorRegion: error,
          onRestored: (appStatus) => context.app.route(appStatus),
        }),
      );
    } catch (reason) {
      list.replaceChildren();
      report(reason, error);
    }
  }

  create.addEventListener("click", () => {
    once(create, async () => {
      clearRegion(error);
      try {
        const backup = await backupCreate();
        announce(status, `Sauvegarde faite le ${formatDateTime(backup.created_at)}.`);
      } catch (reason) {
        report(reason, error);
        return;
      }
      await load();
    });
  });

  load();
  return {
    element: h(
      "div",
      {},
      h(
        "p",
        { class: "intro" },
        "Guichet QF fait des sauvegardes automatiques, et une sauvegarde avant chaque opération importante (suppression, restauration). Pour se prémunir d'une panne de l'ordinateur, copiez régulièrement le dossier des données sur un support rangé ailleurs.",
      ),
      h("p", {}, "Dossier des données : ", h("code", { class: "path", id: "data-dir" }, context.status.data_dir)),
      context.isAdmin ? null : h("p", { class: "note" }, "Seul un administrateur peut restaurer une sauvegarde."),
      status,
      error,
      h("div", { class: "actions" }, create),
      list,
    ),
  };
}
