// Entry point and screen router. The backend's AppStatus decides which screen
// is shown: the first-run wizard, the recovery screen, the lock screen or the
// main shell. Screens never switch to one another directly; they hand a fresh
// AppStatus (or a screen-ending error) back to this module.

import { appStatus, sessionLock, windowPainted } from "./api.js";
import { setDialogHost } from "./dialogs.js";
import { h, focusHeading, unflag } from "./dom.js";
import { setTakeOverHandler } from "./errors.js";
import { startIdleWatch, stopIdleWatch } from "./idle.js";
import { renderLock } from "./screens/lock.js";
import { renderRecovery } from "./screens/recovery.js";
import { renderShell } from "./screens/shell.js";
import { renderWizard } from "./screens/wizard.js";

/** @typedef {import("./bindings/AppStatus").AppStatus} AppStatus */
/** @typedef {import("./api.js").IpcError} IpcError */

/**
 * What a screen may ask of the app.
 * @typedef {object} App
 * @property {(status: AppStatus) => void} route Shows the screen matching a fresh status.
 * @property {() => Promise<void>} refresh Asks the backend for its status, then routes.
 * @property {() => Promise<void>} lock Locks the session and shows the lock screen.
 * @property {(screen: HTMLElement, title: string, heading: HTMLElement | null) => void} mount Puts a screen in place.
 */

const root = /** @type {HTMLElement} */ (document.getElementById("app"));

/**
 * The last status received, kept for the data directory shown on the recovery
 * screen when an error (rather than app_status) reveals a broken store.
 * @type {AppStatus | null}
 */
let lastStatus = null;

/** Which screen is up, so that a burst of failing calls switches screens once. */
let currentScreen = "loading";

/** @type {App} */
const app = {
  route,
  refresh,
  lock,
  mount(screen, title, heading) {
    root.replaceChildren(screen);
    setDialogHost(screen);
    document.title = `${title} — Guichet QF`;
    if (heading) {
      focusHeading(heading);
    }
  },
};

/** @param {AppStatus} status */
function route(status) {
  lastStatus = status;
  stopIdleWatch();
  if (status.state === "first_run") {
    currentScreen = "wizard";
    renderWizard(status, app);
  } else if (status.state === "store_unavailable") {
    currentScreen = "recovery";
    renderRecovery(status.store_error, status.data_dir, app);
  } else if (status.agent === null) {
    currentScreen = "lock";
    renderLock(app, status.demo);
  } else {
    currentScreen = "shell";
    renderShell(status, app);
    startIdleWatch(status.idle_lock_minutes, () => {
      lock();
    });
  }
}

async function refresh() {
  try {
    route(await appStatus());
  } catch (reason) {
    showStartupFailure(reason);
  }
}

async function lock() {
  stopIdleWatch();
  try {
    route(await sessionLock());
  } catch {
    // Whatever prevented the lock (most often a session the backend had
    // already locked by itself), the agent must not be left on an open screen:
    // the status decides what comes next.
    await refresh();
  }
}

/**
 * The backend could not even say in which state it is. Nothing else can be done
 * from the UI, so the message is shown with a way to try again.
 * @param {unknown} reason
 */
function showStartupFailure(reason) {
  currentScreen = "failure";
  const message = reason instanceof Error ? reason.message : String(reason);
  const heading = h("h1", {}, "Guichet QF ne peut pas démarrer");
  const retry = h("button", { type: "button", class: "button", onClick: () => refresh() }, "Réessayer");
  const screen = h(
    "main",
    { class: "screen screen-narrow" },
    heading,
    h("div", { class: "alert", role: "alert" }, h("p", {}, message)),
    h("p", {}, "Si le problème continue après un nouvel essai, redémarrez l'ordinateur puis contactez le support."),
    h("div", { class: "actions" }, retry),
  );
  app.mount(screen, "Erreur au démarrage", heading);
}

setTakeOverHandler((error) => {
  const target = error.code === "session_locked" ? "lock" : "recovery";
  if (currentScreen === target) {
    return false;
  }
  currentScreen = target;
  stopIdleWatch();
  if (target === "lock") {
    refresh();
  } else {
    showRecoveryFor(error);
  }
  return true;
});

/**
 * A command reported an unreadable store. The backend's own status is asked
 * first, because it describes the problem best; if it still claims to be
 * ready, the command's error is shown instead.
 * @param {IpcError} error
 */
async function showRecoveryFor(error) {
  try {
    const status = await appStatus();
    if (status.state === "store_unavailable") {
      route(status);
      return;
    }
    lastStatus = status;
  } catch {
    // The error already in hand is the one to show.
  }
  renderRecovery(error, lastStatus ? lastStatus.data_dir : null, app);
}

// A field flagged invalid is unflagged as soon as the agent edits it, so that
// the red border does not outlive the mistake it pointed at.
document.addEventListener("input", (event) => {
  if (event.target instanceof HTMLElement) {
    unflag(event.target);
  }
});

// Two animation frames after the first screen is built, it has been painted: the backend logs
// the start-up time (support, and the window benchmark). A failure there changes nothing.
refresh().then(() => {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    windowPainted().catch(() => {});
  }));
});
