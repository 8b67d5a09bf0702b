// Idle lock. A counter PC is often left unattended between two families, so the
// session locks itself after the configured number of minutes without keyboard
// or pointer activity. The backend keeps its own idle clock too (it is the one
// that really enforces the lock); this module keeps it informed that the agent
// is still there, and brings the lock screen up on time without waiting for the
// next command to fail with `session_locked`.

import { sessionTouch } from "./api.js";
import { takeOver } from "./errors.js";

/**
 * The backend needs to hear about activity at most this often; with a short
 * idle delay it must hear sooner, or it would lock an agent who is typing.
 */
const TOUCH_INTERVAL_MS = 60_000;
/** How often the idle delay is checked; the lock may come up to this late. */
const CHECK_INTERVAL_MS = 5_000;
const ACTIVITY_EVENTS = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];

let running = false;
let idleMs = 0;
let lastActivity = 0;
let lastTouch = 0;
/** @type {number | undefined} */
let timer;
/** @type {() => void} */
let onIdle = () => {};

function onActivity() {
  if (!running) {
    return;
  }
  const now = Date.now();
  lastActivity = now;
  if (now - lastTouch >= Math.min(TOUCH_INTERVAL_MS, idleMs / 4)) {
    lastTouch = now;
    // A failed touch is not worth an error message: if the session is already
    // locked the app switches to the lock screen, and anything else will show
    // up on the agent's next real action.
    sessionTouch().catch((reason) => {
      takeOver(reason);
    });
  }
}

for (const type of ACTIVITY_EVENTS) {
  document.addEventListener(type, onActivity, { capture: true, passive: true });
}

function check() {
  if (running && Date.now() - lastActivity >= idleMs) {
    stopIdleWatch();
    onIdle();
  }
}

/**
 * Starts watching once a session is open. The session has just been opened or
 * confirmed by the backend, so both clocks start from now.
 * @param {number} minutes
 * @param {() => void} whenIdle
 */
export function startIdleWatch(minutes, whenIdle) {
  stopIdleWatch();
  running = true;
  idleMs = minutes * 60_000;
  lastActivity = Date.now();
  lastTouch = lastActivity;
  onIdle = whenIdle;
  timer = window.setInterval(check, CHECK_INTERVAL_MS);
}

/** @param {number} minutes */
export function setIdleMinutes(minutes) {
  idleMs = minutes * 60_000;
}

export function stopIdleWatch() {
  running = false;
  if (timer !== undefined) {
    window.clearInterval(timer);
    timer = undefined;
  }
}
