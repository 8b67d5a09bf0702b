// Small DOM helpers. The UI builds its markup with these instead of HTML strings
// so that names coming from the database are always inserted as text (never
// parsed as HTML), and so that nothing ever needs an inline style or an inline
// event handler, which the content security policy forbids.

/**
 * Anything h() accepts as content. Nested arrays are flattened, which lets a
 * caller pass the result of a map() next to single elements.
 * @typedef {Node | string | number | null | undefined | false | ChildList} Child
 */
/** @typedef {Array<Child>} ChildList */

/**
 * Creates an element. Props starting with "on" followed by a capital letter are
 * event listeners; `class` and `for` map to their DOM properties; `true` sets a
 * boolean attribute and `false`, `null` or `undefined` leave it out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (/^on[A-Z]/.test(key) && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "for") {
      el.setAttribute("for", value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  appendChildren(el, children);
  return el;
}

/**
 * @param {Element} parent
 * @param {Child[]} children
 */
function appendChildren(parent, children) {
  for (const child of children) {
    if (Array.isArray(child)) {
      appendChildren(parent, child);
    } else if (typeof child === "string") {
      parent.append(frenchSpacing(child));
    } else if (child !== null && child !== undefined && child !== false) {
      parent.append(typeof child === "number" ? String(child) : child);
    }
  }
}

/**
 * French typography's non-breaking spaces: inside « guillemets » and before
 * « : ; ! ? € », so that a line never starts with a colon or a closing
 * guillemet. Messages are written (and come from Rust) with ordinary spaces;
 * the screen gets the right ones here, for every text that h() or setText()
 * puts in the page.
 * @param {string} text
 */
export function frenchSpacing(text) {
  return text.replace(/« /g, "«\u00a0").replace(/ ([:;!?»€])/g, "\u00a0$1");
}

/**
 * Replaces an element's text, with {@link frenchSpacing}.
 * @param {Element} element
 * @param {string} text
 */
export function setText(element, text) {
  element.textContent = frenchSpacing(text);
}

/**
 * Attributes for the box around a table that may scroll sideways (narrow
 * window, 200 % zoom). WebKit does not let the keyboard scroll a box that
 * cannot take focus, hence the tab stop, named so that it is announced.
 * @param {string} label
 */
export function scrollRegion(label) {
  return { class: "table-wrap", role: "region", "aria-label": label, tabindex: "0" };
}

let idCounter = 0;

/**
 * Returns a document-unique id, for label/description links between elements
 * that are created more than once (table rows, dialogs).
 * @param {string} prefix
 */
export function uniqueId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * Moves keyboard and screen-reader focus to a heading. Headings are not
 * focusable by default, hence the tabindex of -1 (focusable by script only).
 * @param {HTMLElement} heading
 */
export function focusHeading(heading) {
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

/**
 * Shows a message in a live region. A fresh child node is inserted each time,
 * because screen readers may stay silent when the same text is set twice in a
 * row (for example two wrong PINs one after the other).
 * @param {HTMLElement} region
 * @param {string} message
 */
export function announce(region, message) {
  region.replaceChildren(h("p", {}, message));
}

/** @param {HTMLElement} region */
export function clearRegion(region) {
  region.replaceChildren();
}

/**
 * An empty region that screen readers read out as soon as an error is put in
 * it. It exists before any error so that the announcement is reliable.
 * @param {string} id
 */
export function alertRegion(id) {
  return h("div", { id, class: "alert", role: "alert" });
}

/**
 * A polite region for confirmations ("Enregistré."), which must not interrupt
 * what the screen reader is saying.
 * @param {string} id
 */
export function statusRegion(id) {
  return h("div", { id, class: "status", role: "status" });
}

/**
 * A labelled input with an optional help text tied to it by aria-describedby.
 * @param {{ id: string, label: string, hint?: string, type?: string, value?: string,
 *   autocomplete?: string, inputmode?: string, required?: boolean, extra?: Record<string, any> }} options
 * @returns {{ wrapper: HTMLDivElement, input: HTMLInputElement }}
 */
export function textField({ id, label, hint, type = "text", value = "", autocomplete = "off", inputmode, required = true, extra = {} }) {
  const hintId = hint ? `${id}-hint` : undefined;
  const input = h("input", {
    id,
    name: id,
    type,
    autocomplete,
    inputmode,
    required,
    "aria-describedby": hintId,
    spellcheck: "false",
    ...extra,
  });
  input.value = value;
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    input,
  );
  return { wrapper, input };
}

/**
 * A group of radio buttons in a fieldset whose legend names the question.
 * @param {{ idPrefix: string, name: string, legend: string, options: { value: string, label: string, hint?: string }[], checked: string }} options
 * @returns {{ fieldset: HTMLFieldSetElement, value: () => string }}
 */
export function radioGroup({ idPrefix, name, legend, options, checked }) {
  const fieldset = h(
    "fieldset",
    { class: "radios" },
    h("legend", {}, legend),
    options.map((option) => {
      const id = `${idPrefix}-${option.value}`;
      const hintId = option.hint ? `${id}-hint` : undefined;
      const input = h("input", {
        type: "radio",
        id,
        name,
        value: option.value,
        "aria-describedby": hintId,
      });
      // The default is set too, so that form.reset() returns to this choice.
      input.defaultChecked = option.value === checked;
      input.checked = input.defaultChecked;
      return h(
        "div",
        { class: "radio" },
        input,
        h("label", { for: id }, option.label),
        option.hint ? h("p", { class: "hint", id: hintId }, option.hint) : null,
      );
    }),
  );
  const value = () => {
    const selected = /** @type {HTMLInputElement | null} */ (fieldset.querySelector("input:checked"));
    return selected ? selected.value : "";
  };
  return { fieldset, value };
}

/**
 * Marks the field as invalid for assistive technologies, ties it to the text
 * that says what is wrong (read out with the field, after its label and help)
 * and puts focus in it, so the agent lands where the correction is needed.
 * @param {HTMLElement} input
 * @param {HTMLElement} [message] the error text or the region holding it; it needs an id
 */
export function flagInvalid(input, message) {
  input.setAttribute("aria-invalid", "true");
  if (message?.id) {
    linkError(input, message.id);
  }
  input.focus();
}

/**
 * Adds an error's id to the field's description, once, remembering it so that
 * `unflag` removes exactly the errors' ids and keeps the help text's.
 * @param {HTMLElement} input
 * @param {string} id
 */
export function linkError(input, id) {
  const tokens = (/** @type {string | null | undefined} */ text) => (text ?? "").split(/\s+/).filter(Boolean);
  const described = tokens(input.getAttribute("aria-describedby"));
  const errors = tokens(input.dataset.errorIds);
  if (!described.includes(id)) {
    described.push(id);
  }
  if (!errors.includes(id)) {
    errors.push(id);
  }
  input.setAttribute("aria-describedby", described.join(" "));
  input.dataset.errorIds = errors.join(" ");
}

/**
 * Takes back what `flagInvalid` and `linkError` did: the field is valid again
 * and no longer described by its errors.
 * @param {HTMLElement} input
 */
export function unflag(input) {
  input.removeAttribute("aria-invalid");
  const errors = (input.dataset.errorIds ?? "").split(/\s+/).filter(Boolean);
  if (errors.length > 0) {
    const kept = (input.getAttribute("aria-describedby") ?? "").split(/\s+/).filter((token) => token && !errors.includes(token));
    if (kept.length > 0) {
      input.setAttribute("aria-describedby", kept.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
    delete input.dataset.errorIds;
  }
}

/** @param {ParentNode} scope */
export function clearInvalid(scope) {
  for (const el of scope.querySelectorAll("[aria-invalid], [data-error-ids]")) {
    unflag(/** @type {HTMLElement} */ (el));
  }
}

const running = new WeakSet();

/**
 * Runs an action at most once at a time per element (a form or a button), so
 * that a double click or a repeated Enter does not send the same command twice.
 * The button is not disabled, because disabling the focused button would throw
 * keyboard focus back to the top of the page; it is marked busy instead.
 * @template T
 * @param {Element} element
 * @param {() => Promise<T>} action
 * @returns {Promise<T | undefined>}
 */
export async function once(element, action) {
  if (running.has(element)) {
    return undefined;
  }
  running.add(element);
  element.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    running.delete(element);
    element.removeAttribute("aria-busy");
  }
}
