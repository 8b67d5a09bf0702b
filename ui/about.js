// What « À propos » shows, in the shell's view and on the recovery screen: the
// version, where the data and the log files are, and the text for support.
// The backend builds that text without personal data or secret; it is shown in
// full so that the agent sees what she sends before she pastes it in an email.

import { about } from "./api.js";
import { alertRegion, announce, h, once, statusRegion } from "./dom.js";
import { report } from "./errors.js";

/** @typedef {import("./bindings/About").About} About */

/**
 * Puts `text` on the clipboard. The clipboard API is tried first; a web view
 * that refuses it still copies a selected text area. `false` when neither
 * worked, and the text is then left selected for Ctrl+C.
 * @param {string} text
 * @param {HTMLTextAreaElement} area
 */
async function copyText(text, area) {
  try {
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (reason) {
    console.warn("clipboard API refused, falling back to a selection", reason);
  }
  area.focus();
  area.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

/**
 * The facts and the support text, with "Copier les informations pour le support".
 * @param {About} info
 * @param {"h2" | "h3"} level The level of the section's headings.
 */
function aboutContent(info, level) {
  const status = statusRegion("about-copy-status");
  const area = /** @type {HTMLTextAreaElement} */ (
    h("textarea", {
      id: "about-support-text",
      class: "support-text path",
      readonly: true,
      rows: String(Math.min(18, info.support_text.split("\n").length + 1)),
      "aria-describedby": "about-support-hint",
      spellcheck: "false",
    })
  );
  area.value = info.support_text;
  const copy = h("button", { type: "button", class: "button", id: "about-copy" }, "Copier les informations pour le support");
  copy.addEventListener("click", () => {
    once(copy, async () => {
      const copied = await copyText(info.support_text, area);
      announce(
        status,
        copied
          ? "Informations copiées : collez-les dans votre courriel (Ctrl+V)."
          : "La copie automatique n'a pas fonctionné : le texte est sélectionné, appuyez sur Ctrl+C.",
      );
    });
  });
  const row = /** @param {string} term @param {string} id @param {string | null} value */ (term, id, value) => [
    h("dt", {}, term),
    h("dd", {}, value ? h("code", { class: "path", id }, value) : h("span", { id }, "aucun pour l'instant")),
  ];
  return [
    h(
      "dl",
      { class: "recap", id: "about-facts" },
      h("dt", {}, "Version"),
      h("dd", { id: "about-version" }, info.version),
      h("dt", {}, "Système"),
      h("dd", {}, info.webview ? `${info.system}, ${info.webview}` : info.system),
      row("Dossier des données", "about-data-dir", info.data_dir),
      row("Base de données", "about-database", info.database_file),
      row("Journal technique du jour", "about-log-file", info.log_file),
      row("Dossier des journaux techniques", "about-log-dir", info.log_dir),
    ),
    h(level, { id: "about-support-heading" }, "Informations pour le support"),
    h(
      "p",
      { id: "about-support-hint", class: "intro" },
      "Ce texte ne contient ni donnée personnelle ni secret (ni famille, ni agent, ni jeton). Vous pouvez le joindre à votre demande d'aide, avec le journal technique du jour si on vous le demande.",
    ),
    h("div", { class: "field" }, h("label", { for: "about-support-text" }, "Texte à envoyer au support"), area),
    h("div", { class: "actions" }, copy),
    status,
  ];
}

/**
 * A section filled when the backend answers.
 * @param {"h2" | "h3"} level
 */
export function aboutSection(level) {
  const error = alertRegion("about-error");
  const section = h("section", { id: "about", "aria-busy": "true" }, h("p", { role: "status" }, "Chargement…"), error);
  about()
    .then((info) => {
      section.replaceChildren(...aboutContent(info, level), error);
      section.removeAttribute("aria-busy");
    })
    .catch((reason) => {
      section.replaceChildren(error);
      section.removeAttribute("aria-busy");
      report(reason, error);
    });
  return section;
}
