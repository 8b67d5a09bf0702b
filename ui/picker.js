// A search-and-choose field for long lists (communes, countries): the agent
// types a few letters, suggestions appear as buttons under the field, and the
// chosen entry is shown in words with a "Changer" button. Buttons rather than
// an ARIA combobox: they work the same with a keyboard, a mouse and a screen
// reader, with nothing to learn.

import { h, setText } from "./dom.js";

/**
 * @template T
 * @typedef {object} Picker
 * @property {HTMLElement} element
 * @property {HTMLInputElement} input the search field, for error marking and focus
 * @property {() => T | null} selected
 * @property {() => void} clear
 */

/**
 * @template T
 * @param {object} options
 * @param {string} options.id
 * @param {string} options.label
 * @param {string} options.hint
 * @param {(query: string) => Promise<T[]>} options.search
 * @param {(item: T) => string} options.describe the words of a suggestion and of the choice
 * @param {(item: T) => string} options.key a stable identifier, for the test ids
 * @param {(reason: unknown) => void} options.onError
 * @returns {Picker<T>}
 */
export function picker({ id, label, hint, search, describe, key, onError }) {
  /** @type {T | null} */
  let chosen = null;
  const input = h("input", {
    id,
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${id}-hint ${id}-count`,
  });
  const count = h("p", { id: `${id}-count`, class: "visually-hidden", "aria-live": "polite" });
  const list = h("ul", { class: "picker-list", id: `${id}-suggestions` });
  const choice = h("p", { class: "picker-choice", id: `${id}-choice` });
  const change = h("button", { type: "button", class: "button secondary small", id: `${id}-change` }, "Changer");
  const chosenBox = h("div", { class: "picker-chosen" }, choice, change);
  chosenBox.hidden = true;
  const searchBox = h("div", {}, input, count, list);

  /** @type {number | undefined} */
  let typing;
  let generation = 0;
  input.addEventListener("input", () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(refresh, 150);
  });

  async function refresh() {
    const query = input.value.trim();
    const asked = ++generation;
    if (query.length < 2) {
      list.replaceChildren();
      count.textContent = "";
      return;
    }
    try {
      const found = await search(query);
      if (asked !== generation) {
        return;
      }
      list.replaceChildren(
        ...found.map((item) => {
          const button = h("button", { type: "button", class: "picker-option", "data-key": key(item) }, describe(item));
          button.addEventListener("click", () => choose(item));
          return h("li", {}, button);
        }),
      );
      setText(count, found.length === 0
        ? "Aucune suggestion."
        : `${found.length} suggestion${found.length > 1 ? "s" : ""} sous le champ.`);
    } catch (reason) {
      onError(reason);
    }
  }

  /** @param {T} item */
  function choose(item) {
    chosen = item;
    setText(choice, describe(item));
    chosenBox.hidden = false;
    searchBox.hidden = true;
    list.replaceChildren();
    change.focus();
  }

  function clear() {
    chosen = null;
    chosenBox.hidden = true;
    searchBox.hidden = false;
    input.value = "";
    list.replaceChildren();
  }

  change.addEventListener("click", () => {
    clear();
    input.focus();
  });

  const element = h(
    "div",
    { class: "field picker" },
    h("label", { for: id }, label),
    h("p", { class: "hint", id: `${id}-hint` }, hint),
    searchBox,
    chosenBox,
  );
  return { element, input, selected: () => chosen, clear };
}
