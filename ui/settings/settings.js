// Paramètres: one page with a section per subject and a short table of contents
// at the top, so that an administrator can reach any section with the keyboard
// in a couple of keystrokes.

import { focusHeading, h } from "../dom.js";
import { agentsSection } from "./agents.js";
import { backupsSection } from "./backups.js";
import { communesSection } from "./communes.js";
import { lockSection } from "./lock.js";
import { networkSection } from "./network.js";
import { particulierSection } from "./particulier.js";
import { retentionSection } from "./retention.js";
import { rgpdSection } from "./rgpd.js";
import { secretsSection } from "./secrets.js";
import { syncSection } from "./sync.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */

/**
 * What a section gives back: its content, and optionally how to redraw it when
 * the list of communes changed in another section.
 * @typedef {{ element: HTMLElement, communesChanged?: () => void }} Section
 */

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the page heading
 */
export function renderSettings(main, context) {
  const heading = h("h1", { id: "view-heading" }, "Paramètres");

  /** @type {Section[]} */
  const built = [];
  const communesChanged = () => {
    for (const section of built) {
      section.communesChanged?.();
    }
  };

  const definitions = [
    { id: "settings-communes", title: "Communes", build: () => communesSection(context, communesChanged) },
    { id: "settings-agents", title: "Agents", build: () => agentsSection(context) },
    { id: "settings-secrets", title: "Secrets : clés d'accès Hubee et API Particulier", build: () => secretsSection(context) },
    { id: "settings-sync", title: "Relevé des dossiers Hubee", build: () => syncSection(context) },
    { id: "settings-particulier", title: "Consultations API Particulier", build: () => particulierSection(context) },
    { id: "settings-network", title: "Réseau et proxy", build: () => networkSection(context) },
    { id: "settings-retention", title: "Conservation des données", build: () => retentionSection(context) },
    { id: "settings-rgpd", title: "Protection des données (RGPD)", build: () => rgpdSection(context) },
    { id: "settings-backups", title: "Sauvegardes", build: () => backupsSection(context) },
    { id: "settings-lock", title: "Verrouillage", build: () => lockSection(context) },
  ];

  const sections = definitions.map((definition) => {
    const sectionHeading = h("h2", { id: `${definition.id}-heading` }, definition.title);
    const section = definition.build();
    built.push(section);
    return {
      definition,
      sectionHeading,
      element: h(
        "section",
        { class: "settings-section", id: definition.id, "aria-labelledby": `${definition.id}-heading` },
        sectionHeading,
        section.element,
      ),
    };
  });

  const toc = h(
    "nav",
    { class: "toc", "aria-label": "Sections des paramètres" },
    h(
      "ul",
      {},
      sections.map(({ definition, sectionHeading }) => {
        const link = h("a", { href: `#${definition.id}` }, definition.title);
        link.addEventListener("click", (event) => {
          // Moving focus (not only scrolling) makes the next Tab continue
          // inside the chosen section.
          event.preventDefault();
          focusHeading(sectionHeading);
          sectionHeading.scrollIntoView({ block: "start" });
        });
        return h("li", {}, link);
      }),
    ),
  );

  main.replaceChildren(heading, toc, ...sections.map((s) => s.element));
  return heading;
}
