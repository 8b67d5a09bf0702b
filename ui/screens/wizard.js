// First-run wizard. It collects the commune, the first agent (who becomes the
// administrator) and, on a PC without a system keychain, the passphrase that
// protects the secrets; then it sends everything in one first_run_complete
// call. The backend holds the real validation rules: the wizard only catches
// empty fields and mismatched confirmations, and shows the backend's message
// when it refuses something.

import { agentCheck, communeCheck, demoStart, firstRunComplete } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, textField } from "../dom.js";
import { report } from "../errors.js";
import { ENVIRONMENT_LABELS } from "../format.js";
import { communeFields, firstEmpty, pinFields } from "../forms.js";

/** @typedef {import("../app.js").App} App */
/** @typedef {import("../bindings/AppStatus").AppStatus} AppStatus */
/** @typedef {import("../bindings/NewCommune").NewCommune} NewCommune */
/** @typedef {"welcome" | "commune" | "agent" | "passphrase" | "recap"} StepName */

/** @type {Record<StepName, string>} */
const STEP_TITLES = {
  welcome: "Bienvenue",
  commune: "La commune",
  agent: "L'administrateur",
  passphrase: "La phrase de protection",
  recap: "Récapitulatif",
};

/**
 * @param {AppStatus} status
 * @param {App} app
 */
export function renderWizard(status, app) {
  /** @type {StepName[]} */
  const steps = ["welcome", "commune", "agent"];
  // Without a system keychain the secrets are encrypted with a key derived from
  // a passphrase, which must be chosen now; with a keychain the backend
  // generates and stores the key itself.
  const needsPassphrase = !status.vault.keystore_available;
  if (needsPassphrase) {
    steps.push("passphrase");
  }
  steps.push("recap");

  // Everything typed so far, kept across steps so that "Précédent" and
  // "Modifier" never lose what the agent entered.
  const data = {
    /** @type {NewCommune} */
    commune: { name: "", siret: "", cog: "", environment: "production" },
    agentName: "",
    pin: "",
    pinConfirm: "",
    passphrase: "",
    passphraseConfirm: "",
  };

  /** @param {StepName} step */
  function show(step) {
    const index = steps.indexOf(step);
    const heading = h("h1", { id: "wizard-heading" }, STEP_TITLES[step]);
    const error = alertRegion("wizard-error");
    const indicator = h(
      "ol",
      { class: "steps", "aria-label": "Étapes de la mise en service" },
      steps.map((name, i) =>
        h(
          "li",
          { class: i < index ? "done" : undefined, "aria-current": i === index ? "step" : undefined },
          h("span", { class: "step-number", "aria-hidden": "true" }, i + 1),
          h("span", { class: "step-label" }, STEP_TITLES[name]),
          i < index ? h("span", { class: "visually-hidden" }, " (terminée)") : null,
        ),
      ),
    );
    const back = h("button", { type: "button", class: "button secondary", id: "wizard-back" }, "Précédent");
    back.addEventListener("click", () => show(steps[index - 1]));

    const { fields, onNext, nextLabel } = STEP_BUILDERS[step](error);
    const next = h(
      "button",
      { type: "submit", class: "button", id: step === "recap" ? "wizard-finish" : "wizard-next" },
      nextLabel,
    );
    // A newcomer can see the whole flow on fictitious data before the town hall
    // has any credential; nothing of it touches the real data.
    const demo = h(
      "button",
      { type: "button", class: "button secondary", id: "wizard-demo" },
      "Essayer en mode démonstration",
    );
    demo.addEventListener("click", () => {
      once(demo, async () => {
        clearRegion(error);
        try {
          app.route(await demoStart());
        } catch (reason) {
          report(reason, error);
        }
      });
    });
    const form = h(
      "form",
      { class: "form", id: "wizard-form", novalidate: true },
      fields,
      error,
      h("div", { class: "actions" }, index > 0 ? back : null, next, step === "welcome" ? demo : null),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      once(form, async () => {
        clearInvalid(form);
        clearRegion(error);
        if (await onNext()) {
          if (step !== "recap") {
            show(steps[index + 1]);
          }
        }
      });
    });

    const screen = h(
      "main",
      { class: "screen screen-narrow wizard", id: "wizard", "data-step": step },
      h("p", { class: "app-title" }, "Guichet QF — mise en service"),
      indicator,
      h("p", { class: "step-count" }, `Étape ${index + 1} sur ${steps.length}`),
      heading,
      form,
    );
    app.mount(screen, `${STEP_TITLES[step]} (étape ${index + 1} sur ${steps.length})`, heading);
  }

  /**
   * Each step returns its fields and what "Suivant" does; onNext resolves to
   * true when the wizard may move on.
   * @type {Record<StepName, (error: HTMLElement) => { fields: (Node | null)[], onNext: () => Promise<boolean>, nextLabel: string }>}
   */
  const STEP_BUILDERS = {
    welcome: () => ({
      nextLabel: "Commencer",
      onNext: async () => true,
      fields: [
        h("p", {}, "Guichet QF aide la mairie à recevoir et à consulter le quotient familial des familles, pour appliquer le bon tarif à la cantine, au périscolaire ou au centre de loisirs."),
        h("p", {}, "Pour le mettre en service, il faut :"),
        h(
          "ul",
          {},
          h("li", {}, "le nom, le SIRET et le code officiel géographique (code INSEE) de la commune ;"),
          h("li", {}, "le nom de la personne qui administrera Guichet QF, et un code PIN pour elle ;"),
          needsPassphrase ? h("li", {}, "une phrase de protection pour les clés d'accès aux services de l'État.") : null,
        ),
        h("p", {}, "Cela prend quelques minutes. Rien n'est enregistré avant la dernière étape."),
      ],
    }),

    commune: (error) => {
      const commune = communeFields("wizard-commune", data.commune);
      return {
        nextLabel: "Suivant",
        fields: [
          h("p", { class: "intro" }, "La commune qui utilisera Guichet QF. D'autres communes (par exemple un CCAS) pourront être ajoutées ensuite dans Paramètres."),
          ...commune.elements,
        ],
        onNext: async () => {
          data.commune = commune.read();
          const empty = firstEmpty([commune.inputs.name, commune.inputs.siret, commune.inputs.cog]);
          if (empty) {
            announce(error, `Le champ « ${labelOf(empty)} » est à remplir.`);
            flagInvalid(empty, error);
            return false;
          }
          // The backend's rules (SIRET key, COG format) are checked here, so the
          // agent corrects them on this step rather than at the recap.
          try {
            await communeCheck(data.commune);
          } catch (reason) {
            report(reason, error);
            return false;
          }
          return true;
        },
      };
    },

    agent: (error) => {
      const name = textField({
        id: "wizard-agent-name",
        label: "Prénom et nom",
        value: data.agentName,
        autocomplete: "name",
      });
      const pins = pinFields("wizard", { value: data.pin, confirmValue: data.pinConfirm });
      return {
        nextLabel: "Suivant",
        fields: [
          h("p", { class: "intro" }, "La première personne enregistrée est l'administrateur de Guichet QF : elle pourra ajouter les autres agents, gérer les communes et configurer les clés d'accès. Sa session s'ouvre à la fin de la mise en service."),
          name.wrapper,
          ...pins.elements,
        ],
        onNext: async () => {
          data.agentName = name.input.value.trim();
          data.pin = pins.pin.value;
          data.pinConfirm = pins.confirm.value;
          const empty = firstEmpty([name.input, pins.pin, pins.confirm]);
          if (empty) {
            announce(error, `Le champ « ${labelOf(empty)} » est à remplir.`);
            flagInvalid(empty, error);
            return false;
          }
          if (data.pin !== data.pinConfirm) {
            announce(error, "Les deux codes PIN saisis sont différents. Saisissez le même code dans les deux champs.");
            flagInvalid(pins.confirm, error);
            return false;
          }
          try {
            await agentCheck({ name: data.agentName, role: "administrateur", pin: data.pin });
          } catch (reason) {
            report(reason, error);
            return false;
          }
          return true;
        },
      };
    },

    passphrase: (error) => {
      const phrase = textField({
        id: "wizard-passphrase",
        label: "Phrase de protection des secrets",
        hint: "Au moins 10 caractères. Une courte phrase facile à retenir convient, par exemple « la cantine ouvre à midi ».",
        type: "password",
        autocomplete: "new-password",
        value: data.passphrase,
      });
      const confirm = textField({
        id: "wizard-passphrase-confirm",
        label: "Confirmation de la phrase de protection",
        type: "password",
        autocomplete: "new-password",
        value: data.passphraseConfirm,
      });
      return {
        nextLabel: "Suivant",
        fields: [
          h("p", {}, "Cet ordinateur n'a pas de trousseau de clés système où Guichet QF pourrait ranger ses secrets en sûreté."),
          h("p", {}, "Les identifiants Hubee et le jeton API Particulier de la commune seront donc protégés par une phrase que vous choisissez maintenant. Elle sera demandée à chaque démarrage de Guichet QF, au moment où ces clés sont nécessaires."),
          h("p", { class: "warning" }, "Notez-la et rangez-la en lieu sûr : sans elle, les clés d'accès devront être saisies à nouveau."),
          phrase.wrapper,
          confirm.wrapper,
        ],
        onNext: async () => {
          data.passphrase = phrase.input.value;
          data.passphraseConfirm = confirm.input.value;
          const empty = firstEmpty([phrase.input, confirm.input]);
          if (empty) {
            announce(error, `Le champ « ${labelOf(empty)} » est à remplir.`);
            flagInvalid(empty, error);
            return false;
          }
          if (data.passphrase !== data.passphraseConfirm) {
            announce(error, "Les deux phrases saisies sont différentes. Saisissez la même phrase dans les deux champs.");
            flagInvalid(confirm.input, error);
            return false;
          }
          return true;
        },
      };
    },

    recap: (error) => {
      /**
       * @param {string} title
       * @param {StepName} step
       * @param {[string, string][]} rows
       */
      const section = (title, step, rows) => {
        const edit = h(
          "button",
          { type: "button", class: "button secondary small", id: `wizard-edit-${step}` },
          "Modifier",
          h("span", { class: "visually-hidden" }, ` : ${title.toLowerCase()}`),
        );
        edit.addEventListener("click", () => show(step));
        return h(
          "section",
          { class: "recap-section" },
          h("h2", {}, title),
          h("dl", { class: "recap" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
          edit,
        );
      };
      const fields = [
        h("p", { class: "intro" }, "Vérifiez les informations, puis cliquez sur « Terminer » pour enregistrer et ouvrir votre session."),
        section("Commune", "commune", [
          ["Nom", data.commune.name],
          ["SIRET", data.commune.siret],
          ["Code officiel géographique", data.commune.cog],
          ["Environnement", ENVIRONMENT_LABELS[data.commune.environment]],
        ]),
        section("Administrateur", "agent", [
          ["Nom", data.agentName],
          ["Code PIN", "choisi (non affiché)"],
        ]),
        needsPassphrase
          ? section("Phrase de protection", "passphrase", [["Phrase", "choisie (non affichée)"]])
          : null,
      ];
      return {
        nextLabel: "Terminer",
        fields,
        onNext: async () => {
          try {
            const status = await firstRunComplete({
              commune: data.commune,
              agent_name: data.agentName,
              pin: data.pin,
              passphrase: needsPassphrase ? data.passphrase : null,
            });
            app.route(status);
            return true;
          } catch (reason) {
            // The agent stays on the recap: the message names the field to
            // correct, and the "Modifier" buttons lead to it. Focus moves to
            // the message so that the keyboard starts from there.
            report(reason, error);
            if (error.isConnected) {
              error.setAttribute("tabindex", "-1");
              error.focus();
            }
            return false;
          }
        },
      };
    },
  };

  show("welcome");
}

/**
 * The visible label of a field, to name it in a message.
 * @param {HTMLInputElement} input
 */
function labelOf(input) {
  const label = input.labels && input.labels[0];
  return label ? label.textContent ?? "" : input.name;
}
