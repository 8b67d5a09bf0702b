// Paramètres › Secrets: the keys each commune needs to reach Hubee and
// API Particulier. A secret's value only ever travels from this form to the
// backend; the UI never receives it back and shows only whether it is set and
// since when.
//
// On a PC without a system keychain the secrets are encrypted with a key
// derived from the passphrase chosen at setup. Until it is typed again after a
// start, secret commands fail with `vault_locked`: the section then asks for
// the passphrase and retries what was refused.

import { particulierTokenCompromised, secretDelete, secretSet, secretsStatus, toIpcError, vaultUnlock } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, h, once, setText, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";
import { formatDateTime, SECRET_KIND_LABELS, SECRET_KINDS } from "../format.js";

/** @typedef {import("../screens/shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/Commune").Commune} Commune */
/** @typedef {import("../bindings/SecretKind").SecretKind} SecretKind */
/** @typedef {import("../bindings/SecretStatus").SecretStatus} SecretStatus */
/** @typedef {import("./settings.js").Section} Section */

/** @param {SecretStatus | undefined} secret */
function stateText(secret) {
  return secret && secret.configured_at ? `Configuré le ${formatDateTime(secret.configured_at)}` : "Non configuré";
}

/**
 * @param {ShellContext} context
 * @returns {Section}
 */
export function secretsSection(context) {
  const status = statusRegion("secrets-status");
  const communesSlot = h("div", { id: "secrets-communes" });

  // Actions refused with vault_locked, run again once the passphrase is accepted.
  /** @type {(() => void)[]} */
  let pendingRetries = [];

  const vaultMessage = alertRegion("vault-message");
  const passphrase = textField({
    id: "vault-passphrase",
    label: "Phrase de protection des secrets",
    type: "password",
    autocomplete: "current-password",
  });
  const unlockButton = h("button", { type: "submit", class: "button", id: "vault-submit" }, "Déverrouiller");
  const vaultForm = h(
    "form",
    { class: "form vault-form", id: "vault-form", novalidate: true, hidden: true, "aria-labelledby": "vault-heading" },
    h("h3", { id: "vault-heading" }, "Déverrouiller les secrets"),
    h(
      "p",
      {},
      "Les clés d'accès sont protégées par la phrase choisie lors de la mise en service de Guichet QF. Saisissez-la pour continuer ; elle ne sera plus demandée avant le prochain démarrage.",
    ),
    vaultMessage,
    passphrase.wrapper,
    h("div", { class: "actions" }, unlockButton),
  );
  vaultForm.addEventListener("submit", (event) => {
    event.preventDefault();
    once(vaultForm, async () => {
      clearInvalid(vaultForm);
      if (passphrase.input.value === "") {
        announce(vaultMessage, "Saisissez la phrase de protection des secrets.");
        flagInvalid(passphrase.input, vaultMessage);
        return;
      }
      try {
        await vaultUnlock(passphrase.input.value);
      } catch (reason) {
        passphrase.input.value = "";
        report(reason, vaultMessage);
        if (passphrase.input.isConnected) {
          flagInvalid(passphrase.input, vaultMessage);
        }
        return;
      }
      passphrase.input.value = "";
      vaultForm.hidden = true;
      clearRegion(vaultMessage);
      announce(status, "Les secrets sont déverrouillés.");
      const retries = pendingRetries;
      pendingRetries = [];
      for (const retry of retries) {
        retry();
      }
    });
  });

  /**
   * Shows the passphrase prompt with the backend's explanation, and keeps the
   * refused action to run it again after the unlock.
   * @param {string} message
   * @param {() => void} retry
   */
  function askPassphrase(message, retry) {
    pendingRetries.push(retry);
    const wasHidden = vaultForm.hidden;
    vaultForm.hidden = false;
    announce(vaultMessage, message);
    if (wasHidden) {
      passphrase.input.focus();
    }
  }

  /**
   * Reports a failure, except vault_locked, which opens the passphrase prompt.
   * @param {unknown} reason
   * @param {HTMLElement} region
   * @param {() => void} retry
   */
  function handle(reason, region, retry) {
    const error = toIpcError(reason);
    if (error.code === "vault_locked") {
      askPassphrase(error.message, retry);
    } else {
      report(error, region);
    }
  }

  /** @param {Commune} commune */
  function communeBlock(commune) {
    const headingId = `secrets-commune-${commune.id}-heading`;
    const error = alertRegion(`secrets-commune-${commune.id}-error`);
    const items = h("ul", { class: "secret-list", id: `secrets-commune-${commune.id}` });
    const block = h(
      "section",
      { class: "subsection", "aria-labelledby": headingId },
      h("h3", { id: headingId }, commune.name),
      error,
      items,
    );

    async function load() {
      items.replaceChildren(h("li", {}, "Chargement…"));
      try {
        const secrets = await secretsStatus(commune.id);
        items.replaceChildren(...SECRET_KINDS.map((kind) => item(kind, secrets.find((s) => s.kind === kind))));
      } catch (reason) {
        items.replaceChildren();
        handle(reason, error, () => {
          load();
        });
      }
    }

    /**
     * @param {SecretKind} kind
     * @param {SecretStatus | undefined} initial
     */
    function item(kind, initial) {
      const label = SECRET_KIND_LABELS[kind];
      const idBase = `secret-${commune.id}-${kind}`;
      const state = h("p", { class: "secret-state", id: `${idBase}-state` }, stateText(initial));
      const itemError = alertRegion(`${idBase}-error`);
      const li = h(
        "li",
        { class: "secret", id: idBase },
        h("div", { class: "secret-head" }, h("p", { class: "secret-name" }, label), state),
      );
      let configured = Boolean(initial && initial.configured_at);
      // Any agent who learns that the token leaked may act at once: the CGU
      // ask for the token to stop being used and to be reported without delay.
      const compromised = kind === "particulier_token" ? compromisedButton() : null;
      if (!context.isAdmin) {
        if (compromised) {
          li.append(h("div", { class: "row-actions" }, compromised.button), compromised.region);
        }
        return li;
      }

      const edit = h("button", { type: "button", class: "button secondary small", id: `${idBase}-edit` });
      const remove = h(
        "button",
        { type: "button", class: "button danger-secondary small", id: `${idBase}-delete` },
        "Supprimer",
        h("span", { class: "visually-hidden" }, ` : ${label}`),
      );
      const value = textField({
        id: `${idBase}-value`,
        label: `Nouvelle valeur : ${label}`,
        hint: "Collez la valeur telle qu'elle vous a été transmise. Elle ne sera plus jamais affichée.",
        type: "password",
        autocomplete: "off",
      });
      const save = h("button", { type: "submit", class: "button" }, "Enregistrer");
      const cancel = h("button", { type: "button", class: "button secondary" }, "Annuler");
      const form = h(
        "form",
        { class: "form secret-form", novalidate: true, hidden: true },
        value.wrapper,
        h("div", { class: "actions" }, save, cancel),
      );

      /** @param {SecretStatus} secret */
      const update = (secret) => {
        configured = Boolean(secret.configured_at);
        setText(state, stateText(secret));
        drawActions();
      };
      const drawActions = () => {
        edit.replaceChildren(configured ? "Remplacer" : "Configurer", h("span", { class: "visually-hidden" }, ` : ${label}`));
        remove.hidden = !configured;
        if (compromised) {
          compromised.button.hidden = !configured;
        }
      };
      drawActions();

      edit.addEventListener("click", () => {
        form.hidden = false;
        value.input.focus();
      });
      cancel.addEventListener("click", () => {
        value.input.value = "";
        form.hidden = true;
        clearRegion(itemError);
        edit.focus();
      });

      /** @param {string} secretValue */
      const send = async (secretValue) => {
        try {
          update(await secretSet(commune.id, kind, secretValue));
        } catch (reason) {
          handle(reason, itemError, () => {
            once(form, () => send(secretValue));
          });
          return;
        }
        form.hidden = true;
        clearRegion(itemError);
        announce(status, `${label} (${commune.name}) : enregistré.`);
        edit.focus();
      };

      form.addEventListener("submit", (event) => {
        event.preventDefault();
        once(form, async () => {
          clearInvalid(form);
          clearRegion(itemError);
          const secretValue = value.input.value.trim();
          // The field is emptied as soon as the value is read, so that it does
          // not stay in the page whatever happens next.
          value.input.value = "";
          if (secretValue === "") {
            announce(itemError, "Collez ou saisissez la valeur avant d'enregistrer.");
            flagInvalid(value.input, itemError);
            return;
          }
          await send(secretValue);
        });
      });

      const deleteSecret = async () => {
        try {
          update(await secretDelete(commune.id, kind));
        } catch (reason) {
          handle(reason, itemError, () => {
            once(remove, deleteSecret);
          });
          return;
        }
        announce(status, `${label} (${commune.name}) : supprimé.`);
        edit.focus();
      };
      remove.addEventListener("click", () => {
        once(remove, async () => {
          const confirmed = await confirmAction({
            title: `Supprimer : ${label} (${commune.name}) ?`,
            message: [
              "Guichet QF ne pourra plus utiliser cette clé tant qu'une nouvelle valeur n'aura pas été saisie.",
              "La valeur supprimée ne peut pas être récupérée.",
            ],
            confirmLabel: "Supprimer",
            danger: true,
          });
          if (confirmed) {
            clearRegion(itemError);
            await deleteSecret();
          }
        });
      });

      li.append(h("div", { class: "row-actions" }, edit, remove, compromised?.button ?? null), itemError, compromised?.region ?? null, form);
      return li;

      /**
       * "Jeton compromis…": asks for confirmation, removes the token, then
       * shows the e-mail to send (also opened in the mail program when there
       * is one).
       */
      function compromisedButton() {
        const button = h(
          "button",
          { type: "button", class: "button danger-secondary small", id: `${idBase}-compromised` },
          "Jeton compromis…",
          h("span", { class: "visually-hidden" }, ` (${commune.name})`),
        );
        button.hidden = !configured;
        const region = h("div", { id: `${idBase}-compromised-report`, class: "compromise-report", tabindex: "-1", hidden: true });
        const declare = async () => {
          let report;
          try {
            report = await particulierTokenCompromised(commune.id);
          } catch (reason) {
            handle(reason, itemError, () => {
              once(button, declare);
            });
            return;
          }
          configured = false;
          setText(state, stateText(undefined));
          button.hidden = true;
          if (context.isAdmin) {
            drawActions();
          }
          context.refreshTokenBanners();
          region.replaceChildren(
            h("h4", {}, "Jeton retiré de ce poste"),
            h(
              "p",
              {},
              report.mail_opened
                ? `Le message au support d'API Particulier s'est ouvert dans votre messagerie : complétez les circonstances, puis envoyez-le. S'il ne s'est pas ouvert, copiez le texte ci-dessous et envoyez-le à ${report.address}.`
                : `Aucune messagerie ne s'est ouverte sur ce poste : copiez le texte ci-dessous et envoyez-le à ${report.address}, objet « ${report.subject} ».`,
            ),
            h("textarea", { readonly: true, rows: "12", class: "mail-text", id: `${idBase}-compromised-mail`, "aria-label": "Texte du message au support d'API Particulier" }, report.body),
            h("p", { class: "note" }, "La déclaration est inscrite au journal des accès. Un nouveau jeton devra être demandé par le demandeur de l'habilitation DataPass, puis enregistré ici."),
          );
          region.hidden = false;
          region.focus();
        };
        button.addEventListener("click", () => {
          once(button, async () => {
            const confirmed = await confirmAction({
              title: `Jeton API Particulier de ${commune.name} compromis ?`,
              message: [
                "À faire si le jeton a pu être vu ou copié par une personne non autorisée (courriel, capture d'écran, poste volé…).",
                "Le jeton sera retiré de ce poste : plus aucune consultation du quotient familial ne sera possible pour cette commune tant qu'un nouveau jeton n'aura pas été enregistré.",
                "Un message au support d'API Particulier sera préparé pour qu'il révoque le jeton, comme les conditions d'utilisation l'exigent.",
              ],
              confirmLabel: "Retirer le jeton et prévenir le support",
              danger: true,
            });
            if (confirmed) {
              clearRegion(itemError);
              await declare();
            }
          });
        });
        return { button, region };
      }
    }

    load();
    return block;
  }

  function drawCommunes() {
    // Redrawing drops the retries of blocks that no longer exist.
    pendingRetries = [];
    const communes = context.communes();
    if (communes.length === 0) {
      communesSlot.replaceChildren(
        h("p", {}, "Ajoutez d'abord une commune : les clés d'accès sont propres à chaque commune."),
      );
    } else {
      communesSlot.replaceChildren(...communes.map(communeBlock));
    }
  }

  drawCommunes();

  return {
    element: h(
      "div",
      {},
      h(
        "p",
        { class: "intro" },
        "Les identifiants Hubee permettent de recevoir les dossiers du formulaire national ; le jeton API Particulier permet de consulter le quotient familial. Ils sont fournis par l'État à la commune, après la demande d'habilitation.",
      ),
      context.isAdmin ? null : h("p", { class: "note" }, "Seul un administrateur peut configurer ou supprimer une clé d'accès."),
      status,
      vaultForm,
      communesSlot,
    ),
    communesChanged: drawCommunes,
  };
}
