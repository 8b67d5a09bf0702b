// « À propos »: the version, the data and log locations, and the text for
// support. Open to every agent: it holds nothing private.

import { aboutSection } from "../about.js";
import { h } from "../dom.js";

/**
 * The shell's « À propos » view.
 * @param {HTMLElement} main
 * @returns {HTMLElement} The heading, for focus.
 */
export function renderAbout(main) {
  const heading = h("h1", { id: "view-heading" }, "À propos de Guichet QF");
  main.replaceChildren(
    heading,
    h(
      "p",
      { class: "intro" },
      "Guichet QF relève les dossiers du formulaire QF sur Hubee, consulte le quotient familial par API Particulier et tient le journal des accès. Les données restent sur ce poste.",
    ),
    aboutSection("h2"),
  );
  return heading;
}
