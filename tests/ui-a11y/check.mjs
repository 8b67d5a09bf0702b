// Automated accessibility check of the web UI (issue 9, RGAA AA).
//
// The UI is served with the test-only fake backend exactly as a person sees it
// with tests/ui-mock/serve.py (which this script starts on a free port), then
// Debian's Chromium, driven by playwright-core, visits every screen and the
// states that matter (wizard steps, lock, recovery, each view of the shell,
// details, editors, an open dialog, forms showing errors). On each one axe-core
// runs with the WCAG 2.0/2.1 A and AA rules, once in normal colours and once
// with forced colours (Windows contrast themes); the page is also shown at
// 200 % zoom to find anything wider than the window, and every field marked
// invalid must be described by its error message. The run fails (exit 1) on a
// serious or critical axe violation, a sideways scroll, an invalid field
// without its message, a text without French non-breaking spaces (« : »), a
// JavaScript error or a screen that cannot be reached.
// Axe's moderate and minor findings are printed as remarks.
//
// Why Chromium and a fake backend: the fake backend reaches every state
// (errors, dialogs, a damaged store) at once, without simulators or a display,
// and Chromium emulates forced colours; the keyboard walk of tests/e2e.rs
// covers the real window (WebKitGTK).
//
// Usage: node tests/ui-a11y/check.mjs [screen-name-filter]   (npm run a11y)
// Chromium is never downloaded: CHROMIUM may name another binary.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = require("axe-core").source;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const BLOCKING = new Set(["serious", "critical"]);
const filter = process.argv[2] || "";

/**
 * Every screen and state checked. `url` is the mock's query string; `reach`
 * then clicks and types what a person would to get there, and `ready` is a
 * selector that must be visible before the check.
 * @type {{ name: string, url: string, ready: string, reach?: (page: import("playwright-core").Page) => Promise<void> }[]}
 */
const SCREENS = [
  { name: "Assistant — accueil", url: "scenario=first_run", ready: '#wizard[data-step="welcome"]' },
  {
    name: "Assistant — commune",
    url: "scenario=first_run",
    ready: '#wizard[data-step="commune"]',
    reach: async (page) => {
      await page.click("#wizard-next");
    },
  },
  {
    name: "Assistant — commune avec erreur",
    url: "scenario=first_run",
    ready: "#wizard-error:not(:empty)",
    reach: async (page) => {
      await page.click("#wizard-next");
      await page.waitForSelector('#wizard[data-step="commune"]');
      await page.click("#wizard-next");
    },
  },
  {
    name: "Assistant — administrateur",
    url: "scenario=first_run",
    ready: '#wizard[data-step="agent"]',
    reach: async (page) => {
      await wizardToAgent(page);
    },
  },
  {
    name: "Assistant — phrase de protection",
    url: "scenario=first_run",
    ready: '#wizard[data-step="passphrase"]',
    reach: async (page) => {
      await wizardToAgent(page);
      await page.fill("#wizard-agent-name", "Marie-Claire Dupont");
      await page.fill("#wizard-pin", "4821");
      await page.fill("#wizard-pin-confirm", "4821");
      await page.click("#wizard-next");
    },
  },
  {
    name: "Assistant — récapitulatif",
    url: "scenario=first_run&keystore=1",
    ready: '#wizard[data-step="recap"]',
    reach: async (page) => {
      await wizardToAgent(page);
      await page.fill("#wizard-agent-name", "Marie-Claire Dupont");
      await page.fill("#wizard-pin", "4821");
      await page.fill("#wizard-pin-confirm", "4821");
      await page.click("#wizard-next");
    },
  },
  { name: "Écran de verrouillage", url: "scenario=locked", ready: "#lock-form" },
  {
    name: "Écran de verrouillage — code PIN vide",
    url: "scenario=locked",
    ready: "#lock-error:not(:empty)",
    reach: async (page) => {
      await page.click("#lock-submit");
    },
  },
  { name: "Récupération des données", url: "scenario=store_unavailable", ready: "#recovery-screen #about-support-text" },
  { name: "Dossiers", url: "scenario=shell&view=dossiers", ready: "#inbox-table" },
  { name: "Dossiers — détail d'un dossier", url: "scenario=shell&view=dossiers&open=41", ready: "#dossier-detail #dossier-summary" },
  {
    name: "Dossiers — refus en cours de saisie",
    url: "scenario=shell&view=dossiers&open=41",
    ready: "#refus-message",
    reach: async (page) => {
      await page.waitForSelector("#dossier-refuse");
      await page.click("#dossier-refuse");
    },
  },
  { name: "Recherche QF", url: "scenario=shell&view=recherche", ready: "#counter-form" },
  {
    name: "Recherche QF — formulaire avec erreur",
    url: "scenario=shell&view=recherche",
    ready: "#counter-error:not(:empty)",
    reach: async (page) => {
      await page.waitForSelector("#counter-submit");
      await page.click("#counter-submit");
    },
  },
  { name: "Recherche QF — fiche du QF", url: "scenario=shell&view=recherche&counter=family", ready: "#counter-family-choices button" },
  { name: "Familles — dossiers à rattacher", url: "scenario=shell&view=familles", ready: "#families-pending" },
  { name: "Familles — dossier d'une famille", url: "scenario=shell&view=familles&family=7", ready: "#family-detail #family-history" },
  { name: "Familles — attestation papier en erreur", url: "scenario=shell&view=familles&family=7&paper=errors", ready: "#family-paper-valeur-error:not(:empty)" },
  { name: "Actualisation", url: "scenario=shell&view=actualisation", ready: "#refresh-start, #refresh-preview" },
  { name: "Tarifs — grilles", url: "scenario=shell&view=tarifs", ready: "#tariff-grids" },
  {
    name: "Tarifs — éditeur avec un écart entre tranches",
    url: "scenario=shell&view=tarifs",
    ready: "#tariff-gaps-field:not([hidden])",
    reach: async (page) => {
      await page.click('#tariff-grids tr[data-grid-id="901"] [data-action="edit"]');
      await page.fill("#tariff-bracket-2-min", "700");
    },
  },
  {
    name: "Tarifs — éditeur avec des tranches qui se chevauchent",
    url: "scenario=shell&view=tarifs",
    ready: '#tariff-bracket-2-min[aria-invalid="true"]',
    reach: async (page) => {
      await page.click('#tariff-grids tr[data-grid-id="901"] [data-action="edit"]');
      await page.fill("#tariff-bracket-2-min", "600");
    },
  },
  {
    name: "Tarifs — confirmation de suppression",
    url: "scenario=shell&view=tarifs",
    ready: "dialog[open]",
    reach: async (page) => {
      await page.click('#tariff-grids tr[data-grid-id="901"] [data-action="delete"]');
    },
  },
  { name: "Affiche", url: "scenario=shell&view=affiche", ready: "#poster-preview-image" },
  { name: "Journal", url: "scenario=shell&view=journal", ready: "#journal-table" },
  { name: "Paramètres", url: "scenario=shell&view=parametres", ready: "#communes-table" },
  ...[
    "settings-communes",
    "settings-agents",
    "settings-secrets",
    "settings-sync",
    "settings-particulier",
    "settings-retention",
    "settings-backups",
    "settings-lock",
  ].map((id) => ({
    name: `Paramètres › ${id.replace("settings-", "")}`,
    url: "scenario=shell&view=parametres",
    ready: `#${id}-heading:focus`,
    /** @param {import("playwright-core").Page} page */
    reach: async (page) => {
      await page.waitForSelector("#communes-table");
      await page.click(`.toc a[href="#${id}"]`);
    },
  })),
  {
    name: "Paramètres › réseau, fichier PAC avec identifiant du proxy",
    url: "scenario=shell&view=parametres",
    ready: "#network-account:not([hidden]) #network-proxy-username",
    reach: async (page) => {
      await page.waitForSelector("#network-form");
      await page.click('.toc a[href="#settings-network"]');
      await page.check("#network-mode-pac");
    },
  },
  { name: "Paramètres — agent (droits simples)", url: "scenario=shell_agent&view=parametres", ready: "#settings-communes" },
  { name: "À propos", url: "scenario=shell&view=a-propos", ready: "#about-support-text" },
  {
    name: "À propos — informations copiées",
    url: "scenario=shell&view=a-propos",
    ready: "#about-copy-status:not(:empty)",
    reach: async (page) => {
      await page.click("#about-copy");
    },
  },
];

/** @param {import("playwright-core").Page} page */
async function wizardToAgent(page) {
  await page.click("#wizard-next");
  await page.waitForSelector('#wizard[data-step="commune"]');
  await page.fill("#wizard-commune-name", "Majastres");
  await page.fill("#wizard-commune-siret", "21040107100019");
  await page.fill("#wizard-commune-cog", "04107");
  await page.click("#wizard-next");
  await page.waitForSelector('#wizard[data-step="agent"]');
}

/** A TCP port nobody listens on, for serve.py. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** Starts tests/ui-mock/serve.py and waits until it answers. */
async function startServer() {
  const port = await freePort();
  const child = spawn("python3", [path.join(ROOT, "tests/ui-mock/serve.py"), String(port)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    try {
      const response = await fetch(`${base}/`);
      if (response.ok) {
        return { child, base };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGTERM");
  throw new Error(`serve.py ne répond pas sur le port ${port}`);
}

/**
 * Runs axe on the page and returns its violations.
 * @param {import("playwright-core").Page} page
 */
async function runAxe(page) {
  if (!(await page.evaluate(() => "axe" in window))) {
    // Evaluated through the DevTools protocol rather than added as a <script>
    // element: the page keeps the app's strict content security policy (no
    // inline script), so that a violation of it still shows up here.
    await page.evaluate(AXE_SOURCE);
  }
  return page.evaluate(async (tags) => {
    // @ts-ignore axe is injected above.
    const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return result.violations.map((/** @type {any} */ v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((/** @type {any} */ n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
}

/**
 * Elements that stick out past the right edge of the window, and whether the
 * page as a whole scrolls sideways.
 * @param {import("playwright-core").Page} page
 */
async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scrolls = document.documentElement.scrollWidth > width + 1 || document.body.scrollWidth > width + 1;
    /** @type {string[]} */
    const culprits = [];
    if (scrolls) {
      for (const el of document.body.querySelectorAll("*")) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.right <= width + 1) {
          continue;
        }
        // Only the innermost offenders (none of their children sticks out),
        // and nothing inside a box that scrolls on its own (wide tables sit in one).
        if ([...el.children].some((child) => child.getBoundingClientRect().right > width + 1)) {
          continue;
        }
        // An absolutely placed element may escape its scrolling box, so it
        // is always suspect.
        let inside = false;
        const placed = ["absolute", "fixed"].includes(getComputedStyle(el).position);
        for (let p = el.parentElement; p && p !== document.body && !placed; p = p.parentElement) {
          if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) {
            inside = true;
            break;
          }
        }
        if (!inside) {
          const id = el.id ? `#${el.id}` : "";
          const cls = el.classList.length ? `.${[...el.classList].join(".")}` : "";
          culprits.push(`${el.tagName.toLowerCase()}${id}${cls} (bord droit à ${Math.round(box.right)} px pour ${width} px)`);
        }
      }
    }
    return { scrolls, culprits };
  });
}

/**
 * Waits until the page has stopped changing for a moment (the last answers of
 * the fake backend drawn: lists, previews), so that axe never sees a screen
 * half redrawn; at most 3 s.
 * @param {import("playwright-core").Page} page
 */
async function settled(page) {
  await page.evaluate(() => new Promise((resolve) => {
    let quiet = setTimeout(done, 250);
    const observer = new MutationObserver(() => {
      clearTimeout(quiet);
      quiet = setTimeout(done, 250);
    });
    const cap = setTimeout(done, 3000);
    function done() {
      observer.disconnect();
      clearTimeout(quiet);
      clearTimeout(cap);
      resolve(null);
    }
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }));
}

/**
 * Opens a screen in a fresh page with the given emulation and brings it to
 * the state checked.
 * @param {import("playwright-core").Browser} browser
 * @param {string} base
 * @param {(typeof SCREENS)[number]} screen
 * @param {import("playwright-core").BrowserContextOptions} options
 */
async function open(browser, base, screen, options) {
  // Reduced motion, which the UI honours: no smooth scrolling under way
  // while axe looks at the page.
  const context = await browser.newContext({ locale: "fr-FR", timezoneId: "Europe/Paris", reducedMotion: "reduce", ...options });
  const page = await context.newPage();
  /** @type {string[]} */
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(10_000);
  await page.goto(`${base}/?${screen.url}`);
  if (screen.reach) {
    const first = screen.url.includes("scenario=first_run") ? "#wizard" : screen.url.includes("scenario=shell") ? "#view-heading" : "main";
    await page.waitForSelector(first);
    await screen.reach(page);
  }
  await page.waitForSelector(screen.ready, { state: "visible" });
  await settled(page);
  return { context, page, pageErrors };
}

async function main() {
  const { child, base } = await startServer();
  /** @type {import("playwright-core").Browser} */
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  } catch (error) {
    child.kill("SIGTERM");
    throw new Error(`Chromium ne démarre pas (${CHROMIUM}) : installez le paquet chromium (bash scripts/bootstrap.sh test).\n${error}`);
  }
  let failures = 0;
  const screens = SCREENS.filter((s) => s.name.toLowerCase().includes(filter.toLowerCase()));
  const checked = screens.length;
  const started = Date.now();
  try {
    /**
     * Checks one screen and returns its report lines and blocking count.
     * @param {(typeof SCREENS)[number]} screen
     */
    const check = async (screen) => {
      let blockingCount = 0;
      /** @type {string[]} */
      const lines = [];
      try {
        const { context, page, pageErrors } = await open(browser, base, screen, { viewport: { width: 1280, height: 1024 }, deviceScaleFactor: 2 });
        for (const mode of ["couleurs normales", "couleurs forcées"]) {
          if (mode === "couleurs forcées") {
            await page.emulateMedia({ forcedColors: "active" });
          }
          for (const v of await runAxe(page)) {
            const blocking = BLOCKING.has(v.impact);
            if (blocking) blockingCount += 1;
            lines.push(`  ${blocking ? "ÉCHEC" : "remarque"} [${mode}] ${v.id} (${v.impact}) : ${v.help}`);
            for (const node of v.nodes.slice(0, 6)) {
              lines.push(`      ${node.target}`);
            }
            if (v.nodes.length > 6) lines.push(`      … et ${v.nodes.length - 6} autres éléments`);
          }
        }
        // An invalid field must say why: its description names the error.
        const unexplained = await page.evaluate(() => [...document.querySelectorAll('[aria-invalid="true"]')]
          .filter((field) => !(field.getAttribute("aria-describedby") ?? "").split(/\s+/)
            .some((id) => {
              // An error message, not the help text: it sits in an alert or
              // live region or is a field's own error line.
              const text = id ? document.getElementById(id) : null;
              return text?.textContent?.trim() && text.closest('[role="alert"], [aria-live], .field-error');
            }))
          .map((field) => `#${field.id || field.tagName.toLowerCase()}`));
        for (const field of unexplained) {
          blockingCount += 1;
          lines.push(`  ÉCHEC champ invalide sans message d'erreur lié (aria-describedby) : ${field}`);
        }
        // French spacing (ui/dom.js frenchSpacing): a text put in the page
        // without it could wrap before a colon or after an opening guillemet.
        const unspaced = await page.evaluate(() => {
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          /** @type {string[]} */
          const found = [];
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent ?? "";
            if (/« | [:;!?»€]/.test(text) && !node.parentElement?.closest("script, style, textarea")) {
              found.push(text.trim().slice(0, 80));
            }
          }
          return found;
        });
        for (const text of unspaced.slice(0, 5)) {
          blockingCount += 1;
          lines.push(`  ÉCHEC [typographie] espace ordinaire au lieu d'une espace insécable : « ${text} »`);
        }
        await page.emulateMedia({ forcedColors: "none" });
        // 200 % zoom of a 1280×1024 screen: two device pixels per CSS pixel
        // and half the CSS pixels for the layout, which is what the page
        // sees when the agent zooms in.
        await page.setViewportSize({ width: 640, height: 512 });
        await settled(page);
        const { scrolls, culprits } = await overflow(page);
        if (scrolls) {
          blockingCount += 1;
          lines.push("  ÉCHEC [zoom 200 %] la page défile horizontalement :");
          for (const culprit of culprits.slice(0, 10)) lines.push(`      ${culprit}`);
        }
        for (const message of pageErrors) {
          blockingCount += 1;
          lines.push(`  ÉCHEC erreur JavaScript : ${message}`);
        }
        await context.close();
      } catch (error) {
        blockingCount += 1;
        lines.push(`  ÉCHEC écran non atteint : ${/** @type {Error} */ (error).message.split("\n")[0]}`);
      }
      return { screen, lines, blockingCount };
    };
    // Two screens at a time: each has its own browser context, and the
    // reports are printed in the list's order.
    /** @type {Promise<{ screen: (typeof SCREENS)[number], lines: string[], blockingCount: number }>[]} */
    const reports = [];
    const workers = Number(process.env.A11Y_WORKERS || 2);
    let next = 0;
    const worker = async () => {
      while (next < screens.length) {
        const index = next;
        next += 1;
        reports[index] = check(screens[index]);
        await reports[index];
      }
    };
    const running = Array.from({ length: workers }, () => worker());
    for (let index = 0; index < screens.length; index += 1) {
      while (!reports[index]) await new Promise((resolve) => setTimeout(resolve, 20));
      const { screen, lines, blockingCount } = await reports[index];
      failures += blockingCount;
      console.log(`${blockingCount > 0 ? "✗" : "✓"} ${screen.name}`);
      for (const line of lines) console.log(line);
    }
    await Promise.all(running);
  } finally {
    await browser.close();
    child.kill("SIGTERM");
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  if (checked === 0) {
    console.log(`Aucun écran ne correspond à « ${filter} ».`);
    process.exit(1);
  }
  if (failures > 0) {
    console.log(`Accessibilité : ${failures} problème(s) bloquant(s) sur ${checked} écrans (${seconds} s).`);
    process.exit(1);
  }
  console.log(`Accessibilité : ${checked} écrans sans violation grave ni défilement horizontal à 200 % (${seconds} s).`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
