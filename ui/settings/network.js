// Paramètres › Réseau et proxy: how Guichet QF reaches Hubee and API
// Particulier from the town hall's network, and "Tester la connexion", which
// tries both for the current commune and says in French what to fix (name
// unknown, firewall, proxy account, certificate of a TLS-inspecting proxy).
// The proxy password only travels from this form to the vault; the page only
// learns when it was saved. A PAC file is downloaded by the backend when the
// mode is saved (and every day); the screen says when it last was.

import { networkCheck, networkGet, networkSave } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, h, once, radioGroup, setText, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";
import { formatDateTime } from "../format.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("./settings.js").Section} Section */
/** @typedef {import("../bindings/NetworkView").NetworkView} NetworkView */
/** @typedef {import("../bindings/NetworkSettings").NetworkSettings} NetworkSettings */
/** @typedef {import("../bindings/ProxyMode").ProxyMode} ProxyMode */
/** @typedef {import("../bindings/ConnectionReport").ConnectionReport} ConnectionReport */

/** @type {{ value: ProxyMode, label: string, hint: string }[]} */
const MODES = [
  { value: "systeme", label: "Réglages du système (recommandé)", hint: "Le proxy configuré dans Windows (Options Internet) ou par le service informatique, comme pour le navigateur." },
  { value: "aucun", label: "Aucun proxy", hint: "Connexion directe à internet, même si Windows indique un proxy." },
  { value: "manuel", label: "Proxy manuel", hint: "L'adresse et le port du proxy donnés par le service informatique, avec son identifiant s'il en demande un." },
  { value: "pac", label: "Fichier de configuration automatique (PAC)", hint: "L'adresse du fichier donnée par le service informatique. Guichet QF le télécharge en enregistrant, puis chaque jour, et suit ce qu'il indique pour chaque site, avec l'identifiant du proxy s'il en demande un." },
];

/** @param {NetworkSettings} s */
function withAccount(s) {
  return s.proxy_username ? `, avec l'identifiant ${s.proxy_username}` : "";
}

/** @param {NetworkView} view */
function describe(view) {
  const s = view.settings;
  switch (s.mode) {
    case "aucun":
      return "Guichet QF se connecte directement à internet, sans proxy.";
    case "manuel":
      return `Guichet QF passe par le proxy ${s.proxy_host}:${s.proxy_port}${withAccount(s)}.`;
    case "pac":
      return view.pac_fetched_at
        ? `Guichet QF suit le fichier PAC ${s.pac_url}, téléchargé le ${formatDateTime(view.pac_fetched_at)}${withAccount(s)}.`
        : `Fichier PAC ${s.pac_url} pas encore téléchargé : les réglages du système sont utilisés en attendant.`;
    default:
      return "Guichet QF utilise les réglages du système pour le proxy.";
  }
}

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function networkSection(context) {
  const status = statusRegion("network-status");
  const error = alertRegion("network-error");
  const current = h("p", { id: "network-current" }, "Chargement…");
  const body = h("div", { id: "network-body" });

  /** @param {NetworkView} view */
  function show(view) {
    setText(current, describe(view));
    body.replaceChildren(context.isAdmin ? form(view) : h("p", { class: "hint" }, "Seul un administrateur peut modifier ces réglages ; chacun peut tester la connexion."));
  }

  /** @param {NetworkView} view */
  function form(view) {
    const s = view.settings;
    const mode = radioGroup({ idPrefix: "network-mode", name: "network-mode", legend: "Accès à internet", options: MODES, checked: s.mode });
    const host = textField({ id: "network-proxy-host", label: "Adresse du proxy", hint: "Nom ou adresse IP, sans « http:// » (exemple : proxy.mairie.local).", value: s.proxy_host });
    const port = textField({ id: "network-proxy-port", label: "Port du proxy", hint: "Souvent 3128 ou 8080.", inputmode: "numeric", value: s.proxy_port, extra: { class: "input-short" } });
    const username = textField({ id: "network-proxy-username", label: "Identifiant du proxy (facultatif)", hint: "Seulement si le proxy demande un identifiant.", value: s.proxy_username, required: false });
    const passwordState = view.proxy_password_configured_at ? `Mot de passe configuré le ${formatDateTime(view.proxy_password_configured_at)} ; laissez vide pour le garder.` : "Aucun mot de passe enregistré.";
    const password = textField({ id: "network-proxy-password", label: "Mot de passe du proxy", hint: `${passwordState} Il est chiffré dans le coffre des secrets et n'est jamais réaffiché.`, type: "password", autocomplete: "new-password", required: false });
    const forget = h("input", { type: "checkbox", id: "network-forget-password", disabled: !view.proxy_password_configured_at });
    const forgetField = h("div", { class: "field checkbox" }, forget, h("label", { for: "network-forget-password" }, "Effacer le mot de passe enregistré"));
    const manual = h("div", { id: "network-manual" }, host.wrapper, port.wrapper);
    const pac = textField({ id: "network-pac-url", label: "Adresse du fichier PAC", hint: "Donnée par le service informatique (exemple : http://proxy.mairie.local/proxy.pac).", type: "url", value: s.pac_url });
    const pacBlock = h("div", { id: "network-pac" }, pac.wrapper);
    // The account goes to the manual proxy or to whichever proxy the PAC file names.
    const account = h("div", { id: "network-account" }, username.wrapper, password.wrapper, forgetField);
    const sync = () => {
      manual.hidden = mode.value() !== "manuel";
      pacBlock.hidden = mode.value() !== "pac";
      account.hidden = mode.value() !== "manuel" && mode.value() !== "pac";
    };
    mode.fieldset.addEventListener("change", sync);
    sync();
    const submit = h("button", { type: "submit", class: "button", id: "network-submit" }, "Enregistrer");
    const element = h("form", { class: "form", id: "network-form", novalidate: true }, mode.fieldset, manual, pacBlock, account, h("div", { class: "actions" }, submit));
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      once(element, async () => {
        clearInvalid(element);
        clearRegion(error);
        clearRegion(status);
        /** @type {NetworkSettings} */
        const settings = {
          mode: /** @type {ProxyMode} */ (mode.value()),
          proxy_host: host.input.value.trim(),
          proxy_port: port.input.value.trim(),
          proxy_username: username.input.value,
          pac_url: pac.input.value.trim(),
        };
        try {
          const saved = await networkSave({ settings, proxy_password: password.input.value === "" ? null : password.input.value, forget_proxy_password: forget.checked });
          show(saved);
          announce(status, `Enregistré. ${describe(saved)}`);
        } catch (reason) {
          report(reason, error);
        }
      });
    });
    return element;
  }

  const checkError = alertRegion("network-check-error");
  const results = h("ul", { class: "check-lines", id: "network-check-lines", "aria-live": "polite" });
  const checkButton = h("button", { type: "button", class: "button secondary", id: "network-check" }, "Tester la connexion");
  checkButton.addEventListener("click", () => {
    once(checkButton, async () => {
      clearRegion(checkError);
      const commune = context.currentCommune();
      if (!commune) {
        announce(checkError, "Choisissez d'abord une commune (en haut de la fenêtre) : le test utilise son environnement et ses identifiants.");
        return;
      }
      results.replaceChildren(h("li", {}, `Test en cours pour ${commune.name}…`));
      try {
        showReport(await networkCheck(commune.id));
      } catch (reason) {
        results.replaceChildren();
        report(reason, checkError);
      }
    });
  });

  /** @param {ConnectionReport} result */
  function showReport(result) {
    results.replaceChildren(
      h("li", { class: "check-summary" }, `${result.commune} (${result.environment}), ${result.route} : ${result.lines.every((line) => line.ok) ? "tout fonctionne." : "au moins une vérification a échoué."}`),
      ...result.lines.map((line) =>
        h(
          "li",
          { class: line.ok ? "check-line check-ok" : "check-line check-failed" },
          h("strong", {}, `${line.service} : ${line.ok ? "réussi" : "échec"}`),
          h("p", {}, line.explanation),
          line.advice ? h("p", { class: "hint" }, `À faire : ${line.advice}`) : null,
          h("p", { class: "hint check-address" }, line.address),
        ),
      ),
    );
  }

  networkGet()
    .then(show)
    .catch((reason) => report(reason, error));

  const testBlock = h(
    "div",
    { class: "settings-subsection" },
    h("h3", {}, "Tester la connexion"),
    h("p", { class: "hint" }, "Essaie d'obtenir un jeton Hubee et de joindre API Particulier pour la commune choisie, avec les réglages enregistrés."),
    checkButton,
    checkError,
    results,
  );
  return { element: h("div", {}, current, body, status, error, testBlock) };
}
