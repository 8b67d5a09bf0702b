// Helpers shared by the Paramètres sections.

/**
 * Puts focus on a message region after the control that had focus went away
 * (for example a deleted row's button), so that keyboard users are not thrown
 * back to the top of the page and screen readers read the outcome.
 * @param {HTMLElement} region
 */
export function focusRegion(region) {
  region.setAttribute("tabindex", "-1");
  region.focus();
}
