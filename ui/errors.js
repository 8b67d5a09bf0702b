// Routing of backend failures. Most errors are shown next to the action that
// failed, but a few mean the current screen can no longer be used at all: the
// session was locked by the backend (idle clock, another window) or the data
// store is unreadable. Those are taken over by the app shell, which switches to
// the lock screen or to the recovery screen.

import { toIpcError } from "./api.js";
import { announce } from "./dom.js";

/** @typedef {import("./api.js").IpcError} IpcError */

/** @type {((error: IpcError) => boolean) | null} */
let takeOverHandler = null;

/**
 * Registers the app-level reaction to screen-ending errors. Kept as a callback
 * so that screens need not import the app module (which imports them). The
 * handler returns false when it leaves the error to the screen, for example a
 * store error raised on the recovery screen itself.
 * @param {(error: IpcError) => boolean} handler
 */
export function setTakeOverHandler(handler) {
  takeOverHandler = handler;
}

/**
 * True for the codes after which the current screen must be left.
 * @param {IpcError} error
 */
export function endsScreen(error) {
  return (
    error.code === "session_locked" ||
    error.code === "database_corrupted" ||
    error.code === "database_too_new"
  );
}

/**
 * Hands a screen-ending error to the app and reports whether it did so.
 * @param {unknown} reason
 */
export function takeOver(reason) {
  const error = toIpcError(reason);
  return endsScreen(error) && takeOverHandler !== null && takeOverHandler(error);
}

/**
 * The usual way to report a failure: screen-ending errors go to the app,
 * everything else is announced in the given alert region.
 * @param {unknown} reason
 * @param {HTMLElement} region
 */
export function report(reason, region) {
  if (!takeOver(reason)) {
    announce(region, toIpcError(reason).message);
  }
}
