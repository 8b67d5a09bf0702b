// Main shell, shown while an agent's session is open: a header (commune,
// agent, "Verrouiller"), the main navigation and the current view.

import { communesList, demoStop, inboxNewCount, onTokenChecked, tokenBanners } from "../api.js";
import { alertRegion, focusHeading, h, once } from "../dom.js";
import { report } from "../errors.js";
import { ROLE_LABELS } from "../format.js";
import { renderSettings } from "../settings/settings.js";
import { renderJournal } from "./journal.js";
import { renderPoster } from "./poster.js";
import { renderFamilies } from "./families.js";
import { renderInbox } from "./inbox.js";
import { renderCounter } from "./counter.js";
import { renderRefresh } from "./refresh.js";
import { renderTariffs } from "./tariffs.js";
import { renderAbout } from "./about.js";
import { watchSync } from "../sync.js";

/** @typedef {import("../app.js").App} App */
/** @typedef {import("../bindings/AppStatus").AppStatus} AppStatus */
/** @typedef {import("../bindings/Agent").Agent} Agent */
/** @typedef {import("../bindings/Commune").Commune} Commune */

/**
 * What a view may use from the shell.
 * @typedef {object} ShellContext
 * @property {App} app
 * @property {AppStatus} status
 * @property {Agent} agent The agent whose session is open.
 * @property {boolean} isAdmin
 * @property {() => Commune[]} communes
 * @property {() => Commune | null} currentCommune
 * @property {() => Promise<void>} reloadCommunes Reloads the communes after a change, for the header too.
 * @property {() => void} refreshBadge Recounts the dossiers no agent has opened, for the menu.
 * @property {() => void} refreshTokenBanners Asks again for the API Particulier token warnings.
 * @property {(name: ViewName) => void} navigate Shows another view, as its menu link does.
 */

/**
 * The token banners of the shell on the page: the guardian's events, listened
 * to once for the life of the page, redraw them.
 */
let refreshShownTokenBanners = () => {};
let listeningToTokenGuardian = false;

function listenToTokenGuardian() {
  if (listeningToTokenGuardian) {
    return;
  }
  listeningToTokenGuardian = true;
  onTokenChecked(() => refreshShownTokenBanners()).catch((reason) => {
    listeningToTokenGuardian = false;
    console.error("token-checked events unavailable", reason);
  });
}

/** @typedef {"dossiers" | "recherche" | "familles" | "actualisation" | "tarifs" | "affiche" | "journal" | "parametres" | "a-propos"} ViewName */

/** @type {{ name: ViewName, label: string }[]} */
const NAV_ITEMS = [
  { name: "dossiers", label: "Dossiers" },
  { name: "recherche", label: "Recherche QF" },
  { name: "familles", label: "Familles" },
  { name: "actualisation", label: "Actualisation" },
  { name: "tarifs", label: "Tarifs" },
  { name: "affiche", label: "Affiche" },
  { name: "journal", label: "Journal" },
  { name: "parametres", label: "Paramètres" },
  { name: "a-propos", label: "À propos" },
];

// Kept in memory for the life of the window (not on disk): after a lock and a
// new session the agent finds the same view and the same commune.
/** @type {ViewName} */
let currentView = "dossiers";
/** @type {number | null} */
let selectedCommuneId = null;

/**
 * @param {AppStatus} status
 * @param {App} app
 */
export function renderShell(status, app) {
  const agent = /** @type {Agent} */ (status.agent);
  /** @type {Commune[]} */
  let communes = [];

  const communeSlot = h("div", { class: "header-commune" });
  const lockButton = h("button", { type: "button", class: "button header-button", id: "lock-button" }, "Verrouiller");
  lockButton.addEventListener("click", () => {
    app.lock();
  });

  const header = h(
    "header",
    { class: "app-header" },
    h("p", { class: "app-name" }, "Guichet QF"),
    communeSlot,
    h(
      "p",
      { class: "header-agent", id: "header-agent" },
      h("span", { class: "visually-hidden" }, "Session ouverte : "),
      h("strong", {}, agent.name),
      ` (${ROLE_LABELS[agent.role]})`,
    ),
    lockButton,
  );

  // The number of dossiers no agent has opened yet, next to "Dossiers".
  const badge = h("span", { class: "badge", id: "nav-dossiers-badge" });
  badge.hidden = true;
  const links = NAV_ITEMS.map((item) => {
    const link = h(
      "a",
      { href: `#${item.name}`, id: `nav-${item.name}`, class: "nav-link" },
      item.label,
      item.name === "dossiers" ? badge : null,
    );
    link.addEventListener("click", (event) => {
      event.preventDefault();
      navigate(item.name);
    });
    return link;
  });
  const nav = h(
    "nav",
    { class: "app-nav", "aria-label": "Menu principal" },
    h("ul", {}, links.map((link) => h("li", {}, link))),
  );

  const main = h("main", { class: "view", id: "main" });
  const skip = h("a", { href: "#main", class: "skip-link" }, "Aller au contenu");
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    const heading = main.querySelector("h1");
    if (heading) {
      focusHeading(heading);
    }
  });

  // In the demonstration, a banner on every view says the data is fictitious,
  // with the way out.
  let banner = null;
  if (status.demo) {
    const leave = h("button", { type: "button", class: "button secondary small", id: "demo-stop" }, "Quitter la démonstration");
    leave.addEventListener("click", () => {
      once(leave, async () => {
        try {
          app.route(await demoStop());
        } catch (reason) {
          report(reason, leaveError);
        }
      });
    });
    const leaveError = alertRegion("demo-error");
    banner = h(
      "div",
      { class: "demo-banner", id: "demo-banner", role: "note" },
      h(
        "p",
        {},
        h("strong", {}, "Mode démonstration"),
        " — toutes les données sont fictives : la commune, les familles, les dossiers et les services de l'État sont simulés. Un nouveau dossier arrive chaque minute.",
      ),
      leave,
      leaveError,
    );
  }
  // The token guardian's warnings, under the header on every view: an expired token is an
  // alert (the counter lookup no longer works), an expiry to come is a polite note.
  const tokenSlot = h("div", { id: "token-banners" });
  function refreshTokenBanners() {
    tokenBanners()
      .then((banners) => {
        tokenSlot.replaceChildren(
          ...banners.map((b) =>
            h(
              "div",
              {
                class: b.warning.urgency === "expire" || b.warning.urgency === "urgent" ? "token-banner urgent" : "token-banner",
                role: b.warning.urgency === "expire" ? "alert" : "status",
                "data-urgency": b.warning.urgency,
              },
              h("p", {}, b.warning.message),
              b.datapass_url ? h("p", { class: "mono" }, `Habilitation DataPass : ${b.datapass_url}`) : null,
            ),
          ),
        );
      })
      .catch((reason) => console.error("token banners not updated", reason));
  }
  refreshTokenBanners();
  refreshShownTokenBanners = () => {
    if (tokenSlot.isConnected) {
      refreshTokenBanners();
    }
  };
  listenToTokenGuardian();

  const screen = h("div", { class: "shell", id: "shell" }, skip, banner, header, nav, tokenSlot, main);
  app.mount(screen, "Guichet QF", null);

  /** @type {ShellContext} */
  const context = {
    app,
    status,
    agent,
    isAdmin: agent.role === "administrateur",
    communes: () => communes,
    currentCommune: () => communes.find((c) => c.id === selectedCommuneId) ?? null,
    reloadCommunes,
    refreshBadge,
    refreshTokenBanners,
    navigate: (name) => navigate(name),
  };

  function refreshBadge() {
    inboxNewCount()
      .then((count) => {
        badge.hidden = count === 0;
        badge.replaceChildren(
          String(count),
          h("span", { class: "visually-hidden" }, count > 1 ? " nouveaux dossiers" : " nouveau dossier"),
        );
      })
      .catch((reason) => console.error("badge not updated", reason));
  }
  // Passes that end while another view is shown still update the badge.
  watchSync(badge, (state) => {
    if (!state.running) {
      refreshBadge();
    }
  });
  refreshBadge();

  function renderCommuneSlot() {
    if (communes.length === 0) {
      communeSlot.replaceChildren(h("p", {}, "Aucune commune"));
      return;
    }
    if (communes.length === 1) {
      communeSlot.replaceChildren(
        h("p", {}, h("span", { class: "visually-hidden" }, "Commune : "), communes[0].name),
      );
      return;
    }
    const select = h(
      "select",
      { id: "commune-select" },
      communes.map((commune) => {
        const option = h("option", { value: String(commune.id) }, commune.name);
        option.selected = commune.id === selectedCommuneId;
        return option;
      }),
    );
    select.addEventListener("change", () => {
      selectedCommuneId = Number(select.value);
      // The views that depend on the commune are redrawn, but focus stays on
      // the selector so that the agent can keep browsing the list.
      showView(currentView, false);
    });
    communeSlot.replaceChildren(h("label", { for: "commune-select" }, "Commune"), select);
  }

  async function reloadCommunes() {
    communes = await communesList();
    if (!communes.some((c) => c.id === selectedCommuneId)) {
      selectedCommuneId = communes.length > 0 ? communes[0].id : null;
    }
    renderCommuneSlot();
  }

  /** @param {ViewName} name */
  function navigate(name) {
    currentView = name;
    refreshTokenBanners();
    showView(name, true);
  }

  /**
   * @param {ViewName} name
   * @param {boolean} moveFocus
   */
  function showView(name, moveFocus) {
    for (const [i, item] of NAV_ITEMS.entries()) {
      if (item.name === name) {
        links[i].setAttribute("aria-current", "page");
      } else {
        links[i].removeAttribute("aria-current");
      }
    }
    const label = NAV_ITEMS.find((item) => item.name === name)?.label ?? "";
    document.title = `${label} — Guichet QF`;
    const heading = name === "parametres"
      ? renderSettings(main, context)
      : name === "dossiers"
        ? renderInbox(main, context)
      : name === "recherche"
        ? renderCounter(main, context)
      : name === "journal"
        ? renderJournal(main, context)
      : name === "affiche"
        ? renderPoster(main, context)
      : name === "actualisation"
        ? renderRefresh(main, context)
      : name === "tarifs"
        ? renderTariffs(main, context)
      : name === "a-propos"
        ? renderAbout(main)
        : renderFamilies(main, context);
    if (moveFocus) {
      focusHeading(heading);
    }
  }

  const loadError = alertRegion("shell-error");
  reloadCommunes()
    .then(() => navigate(currentView))
    .catch((reason) => {
      main.replaceChildren(h("h1", {}, "Guichet QF"), loadError);
      report(reason, loadError);
    });
}
