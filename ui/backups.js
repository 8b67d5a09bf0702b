// The list of backups with its "Restaurer cette sauvegarde" action, shared by
// the recovery screen (no session, store unreadable) and by Paramètres.

import { backupRestore } from "./api.js";
import { confirmAction } from "./dialogs.js";
import { h, once } from "./dom.js";
import { report } from "./errors.js";
import { BACKUP_KIND_LABELS, formatDateTime, formatSize } from "./format.js";

/** @typedef {import("./bindings/BackupInfo").BackupInfo} BackupInfo */
/** @typedef {import("./bindings/AppStatus").AppStatus} AppStatus */

/**
 * Newest first: the backup an agent is looking for is nearly always the last one.
 * @param {BackupInfo[]} backups
 */
function newestFirst(backups) {
  return [...backups].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
}

/**
 * @param {{ backups: BackupInfo[], canRestore: boolean, errorRegion: HTMLElement,
 *   onRestored: (status: AppStatus) => void }} options
 */
export function backupsTable({ backups, canRestore, errorRegion, onRestored }) {
  if (backups.length === 0) {
    return h("p", { id: "backups-empty" }, "Aucune sauvegarde pour le moment.");
  }
  const rows = newestFirst(backups).map((backup) => {
    const when = formatDateTime(backup.created_at);
    let action = null;
    if (canRestore) {
      const button = h(
        "button",
        { type: "button", class: "button secondary small", "data-backup": backup.name },
        "Restaurer cette sauvegarde",
        h("span", { class: "visually-hidden" }, ` du ${when}`),
      );
      button.addEventListener("click", () => {
        once(button, () => restore(backup, when, errorRegion, onRestored));
      });
      action = h("td", {}, button);
    }
    return h(
      "tr",
      {},
      h("td", {}, when),
      h("td", {}, BACKUP_KIND_LABELS[backup.kind] ?? backup.kind),
      h("td", { class: "number" }, formatSize(backup.size_bytes)),
      action,
    );
  });
  return h(
    "table",
    { class: "table", id: "backups-table" },
    h("caption", { class: "visually-hidden" }, "Sauvegardes disponibles, de la plus récente à la plus ancienne"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Date"),
        h("th", { scope: "col" }, "Type"),
        h("th", { scope: "col", class: "number" }, "Taille"),
        canRestore ? h("th", { scope: "col" }, "Action") : null,
      ),
    ),
    h("tbody", {}, rows),
  );
}

/**
 * @param {BackupInfo} backup
 * @param {string} when
 * @param {HTMLElement} errorRegion
 * @param {(status: AppStatus) => void} onRestored
 */
async function restore(backup, when, errorRegion, onRestored) {
  const confirmed = await confirmAction({
    title: `Restaurer la sauvegarde du ${when} ?`,
    message: [
      "Les données actuelles sont d'abord sauvegardées, puis remplacées par celles de cette sauvegarde.",
      "Ce qui a été saisi après cette date n'apparaîtra plus, mais reste dans la sauvegarde faite juste avant la restauration.",
    ],
    confirmLabel: "Restaurer cette sauvegarde",
    danger: true,
  });
  if (!confirmed) {
    return;
  }
  try {
    onRestored(await backupRestore(backup.name));
  } catch (reason) {
    report(reason, errorRegion);
  }
}
