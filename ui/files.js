// Buttons that make a file (a PDF opened or saved, a QR code): one click at a
// time, and the outcome said in the screen's regions. The backend journals the
// file; a null answer means the agent cancelled the system's dialog, which
// needs no message.

import { announce, clearRegion } from "./dom.js";
import { report } from "./errors.js";

/**
 * @template {{ path: string }} Made
 * @param {HTMLButtonElement} button
 * @param {object} options
 * @param {HTMLElement} options.error the alert region
 * @param {HTMLElement} options.status the status region; `data-path` gets the file's path
 * @param {() => Promise<Made | null>} options.action null when the agent cancelled
 * @param {(made: Made) => string} options.done what to say once the file is made
 * @param {() => boolean} [options.check] the screen's own checks, before the backend's
 */
export function fileButton(button, { error, status, action, done, check }) {
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") {
      return;
    }
    clearRegion(error);
    clearRegion(status);
    if (check && !check()) {
      return;
    }
    button.setAttribute("aria-busy", "true");
    try {
      const printed = await action();
      if (printed) {
        announce(status, done(printed));
        status.dataset.path = printed.path;
      }
    } catch (reason) {
      report(reason, error);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
}
