// The views that have no content yet. Each one tells the agent in plain words
// what will appear there, and what has to be done first when something must
// be set up (usually the commune's keys, in Paramètres).

import { h } from "./dom.js";

/** @typedef {import("./screens/shell.js").ShellContext} ShellContext */

/**
 * @typedef {object} Placeholder
 * @property {string} title
 * @property {string[]} paragraphs
 */

/** @type {Record<"familles", Placeholder>} */
export const PLACEHOLDER_VIEWS = {
  familles: {
    title: "Familles",
    paragraphs: [
      "Les familles suivies par la mairie apparaîtront ici, avec leur quotient familial, le mois auquel il correspond et le tarif qui en découle.",
      "Une famille y sera ajoutée à partir d'un dossier reçu ou d'une recherche faite au guichet.",
    ],
  },
};

/**
 * @param {HTMLElement} main
 * @param {Placeholder} view
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderPlaceholder(main, view, context) {
  const heading = h("h1", { id: "view-heading" }, view.title);
  const commune = context.currentCommune();
  main.replaceChildren(
    heading,
    commune ? h("p", { class: "view-commune" }, `Commune : ${commune.name}`) : null,
    h(
      "div",
      { class: "empty-state" },
      h("p", { class: "empty-state-title" }, "Bientôt disponible"),
      view.paragraphs.map((text) => h("p", {}, text)),
    ),
  );
  return heading;
}
