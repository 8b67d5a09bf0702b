// The relevé Hubee as the page knows it: the last state of each commune, kept
// up to date from the backend's "sync-state" events. The backend polls on its
// own; screens only show what happens and may ask for a pass now.
//
// One event listener for the life of the page, however many times the shell is
// drawn again (after a lock, a demonstration); screens subscribe with a
// callback that is dropped as soon as its element has left the page.

import { onSyncState, syncStates } from "./api.js";

/** @typedef {import("./bindings/SyncState").SyncState} SyncState */

/** @type {Map<number, SyncState>} */
const states = new Map();

/** @type {Set<{ element: Element, handler: (state: SyncState) => void }>} */
const subscribers = new Set();

let listening = false;

function listen() {
  if (listening) {
    return;
  }
  listening = true;
  onSyncState((state) => {
    states.set(state.commune_id, state);
    for (const subscriber of [...subscribers]) {
      if (subscriber.element.isConnected) {
        subscriber.handler(state);
      } else {
        subscribers.delete(subscriber);
      }
    }
  }).catch((reason) => {
    listening = false;
    console.error("sync-state events unavailable", reason);
  });
}

/**
 * Calls `handler` with every change while `element` is on the page.
 * @param {Element} element
 * @param {(state: SyncState) => void} handler
 */
export function watchSync(element, handler) {
  listen();
  subscribers.add({ element, handler });
}

/**
 * The current state of every commune, read from the backend (the events only
 * bring changes).
 * @returns {Promise<Map<number, SyncState>>}
 */
export async function loadSyncStates() {
  listen();
  for (const state of await syncStates()) {
    const known = states.get(state.commune_id);
    // An event may have arrived while the list was on its way: the running
    // pass it describes is newer than the stored health.
    states.set(state.commune_id, known?.running ? known : state);
  }
  return states;
}
