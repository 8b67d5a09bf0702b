// Recovery screen, shown when the data store cannot be opened (damaged file,
// or data written by a newer version of Guichet QF). No session is needed:
// nobody can log in while the store is unreadable, and the way out is usually
// to restore a backup.

import { aboutSection } from "../about.js";
import { backupsList } from "../api.js";
import { backupsTable } from "../backups.js";
import { alertRegion, h, once, scrollRegion } from "../dom.js";
import { report } from "../errors.js";

/** @typedef {import("../app.js").App} App */
/** @typedef {import("../bindings/IpcError").IpcError} IpcErrorData */

/**
 * @param {IpcErrorData | null} storeError
 * @param {string | null} dataDir
 * @param {App} app
 */
export async function renderRecovery(storeError, dataDir, app) {
  const heading = h("h1", { id: "recovery-heading" }, "Les données de Guichet QF ne peuvent pas être ouvertes");
  const problem = h(
    "div",
    { class: "alert", id: "recovery-problem" },
    h("p", {}, storeError ? storeError.message : "Le fichier des données n'a pas pu être ouvert."),
  );
  const error = alertRegion("recovery-error");
  const list = h("div", { id: "recovery-backups", ...scrollRegion("Sauvegardes disponibles") }, h("p", { role: "status" }, "Recherche des sauvegardes…"));
  const retry = h("button", { type: "button", class: "button secondary", id: "recovery-retry" }, "Réessayer d'ouvrir les données");
  retry.addEventListener("click", () => {
    once(retry, () => app.refresh());
  });

  const screen = h(
    "main",
    { class: "screen", id: "recovery-screen" },
    heading,
    problem,
    dataDir
      ? h("p", {}, "Dossier des données : ", h("code", { class: "path", id: "recovery-data-dir" }, dataDir))
      : null,
    h("h2", {}, "Que faire ?"),
    h(
      "p",
      {},
      "Restaurez la sauvegarde la plus récente. Les données actuelles sont mises de côté avant la restauration : rien n'est effacé.",
    ),
    h(
      "p",
      {},
      "Si aucune sauvegarde ne convient, ne supprimez aucun fichier : contactez le support en indiquant le message ci-dessus et le dossier des données.",
    ),
    h("h2", {}, "Sauvegardes disponibles"),
    error,
    list,
    h("div", { class: "actions" }, retry),
    h("h2", {}, "À propos de Guichet QF"),
    aboutSection("h3"),
  );
  app.mount(screen, "Données inaccessibles", heading);

  try {
    const backups = await backupsList();
    list.replaceChildren(
      backupsTable({ backups, canRestore: true, errorRegion: error, onRestored: (status) => app.route(status) }),
    );
  } catch (reason) {
    list.replaceChildren();
    report(reason, error);
  }
}
