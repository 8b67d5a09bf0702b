// Affiche: the poster that sends families to the commune's national form. The
// agent picks a format, says which services are concerned, the mairie's
// e-mail and whether the commune refreshes QFs, adds a logo, and sees the very
// PDF that will be printed (drawn by the backend, not imitated here). The
// settings are remembered for the commune at each change. Every file made
// (PDF opened or saved, QR code) is written to the access journal by the
// backend.

import {
  posterListing,
  posterLogoSet,
  posterOpen,
  posterPreview,
  posterQrSave,
  posterSave,
  posterSaveAs,
  posterStudio,
  posterTexts,
} from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, frenchSpacing, h, setText, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";
import { fileButton } from "../files.js";
import { formatSize } from "../format.js";

/** @typedef {import("./shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/PosterFormat").PosterFormat} PosterFormat */
/** @typedef {import("../bindings/PosterSettings").PosterSettings} PosterSettings */
/** @typedef {import("../bindings/LogoInfo").LogoInfo} LogoInfo */
/** @typedef {import("../bindings/ListingStatus").ListingStatus} ListingStatus */
/** @typedef {import("../bindings/Printed").Printed} Printed */

/** @type {{ value: PosterFormat, label: string }[]} */
const FORMATS = [
  { value: "a4", label: "A4 — affiche (QR code de 9 cm)" },
  { value: "a3", label: "A3 — grande affiche (QR code de 12,7 cm)" },
  { value: "a5", label: "A5 — flyer" },
  { value: "a5x2", label: "2 flyers A5 sur une page A4 (à découper)" },
];

/** The largest logo file the backend accepts. */
const LOGO_MAX_BYTES = 2 * 1024 * 1024;

/** Waits this long after the last keystroke before redrawing the preview. */
const PREVIEW_DELAY_MS = 500;

/**
 * The file as base64, the way the backend takes it.
 * @param {File} file
 * @returns {Promise<string>}
 */
function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(",") + 1));
    });
    reader.addEventListener("error", () => reject(reader.error));
    reader.readAsDataURL(file);
  });
}

/**
 * A read-only text to copy, with its label and a "Copier" button.
 * @param {string} id
 * @param {string} label
 */
function copyableText(id, label) {
  const area = h("textarea", { id, name: id, rows: "9", readonly: true, class: "copy-text" });
  const done = statusRegion(`${id}-status`);
  const copy = h("button", { type: "button", class: "button secondary small", id: `${id}-copy` }, "Copier le texte");
  copy.addEventListener("click", async () => {
    area.focus();
    area.select();
    try {
      await navigator.clipboard.writeText(area.value);
      announce(done, "Texte copié : collez-le dans votre site ou votre message.");
    } catch {
      announce(done, "Le texte est sélectionné : copiez-le avec Ctrl+C.");
    }
  });
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), area, h("div", { class: "actions" }, copy), done);
  return { wrapper, area };
}

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderPoster(main, context) {
  const heading = h("h1", { id: "view-heading" }, "Affiche");
  const commune = context.currentCommune();
  if (!commune) {
    main.replaceChildren(heading, h("div", { class: "empty-state" }, h("p", {}, "Aucune commune n'est configurée : ajoutez-en une dans Paramètres.")));
    return heading;
  }
  const communeId = commune.id;
  const several = context.communes().length > 1;

  const listing = h("div", { id: "poster-listing", class: "note", role: "status" }, h("p", {}, "Vérification de l'ouverture du formulaire national pour la commune…"));
  const error = alertRegion("poster-error");
  const status = statusRegion("poster-status");

  const format = h(
    "select",
    { id: "poster-format", name: "poster-format" },
    FORMATS.map((f) => h("option", { value: f.value }, f.label)),
  );
  const services = textField({
    id: "poster-services",
    label: "Services concernés",
    hint: "Séparés par des virgules, par exemple : Cantine, garderie, centre de loisirs.",
    required: false,
  });
  const email = textField({
    id: "poster-email",
    label: "Adresse e-mail de la mairie (facultative)",
    hint: "Les familles sans FranceConnect peuvent y envoyer leur attestation.",
    type: "email",
    autocomplete: "email",
    required: false,
  });
  const refreshes = h("input", { type: "checkbox", id: "poster-refreshes", "aria-describedby": "poster-refreshes-hint" });
  const refreshField = h(
    "div",
    { class: "field" },
    h("div", { class: "field checkbox" }, refreshes, h("label", { for: "poster-refreshes" }, "La commune actualise les QF")),
    h("p", { class: "hint", id: "poster-refreshes-hint" }, "L'affiche indique alors aux familles qu'elles peuvent refuser l'actualisation en écrivant à l'adresse e-mail de la mairie."),
  );

  const logoState = h("p", { id: "poster-logo-state" }, "Aucun logo.");
  const logoFile = h("input", { type: "file", id: "poster-logo-file", accept: "image/png,image/jpeg,.png,.jpg,.jpeg", "aria-describedby": "poster-logo-hint" });
  const logoRemove = h("button", { type: "button", class: "button secondary small", id: "poster-logo-remove" }, "Retirer le logo");
  const logoFieldset = h(
    "fieldset",
    { class: "poster-logo" },
    h("legend", {}, "Logo de la commune (facultatif)"),
    logoState,
    h("div", { class: "field" }, h("label", { for: "poster-logo-file" }, "Choisir un logo"), h("p", { class: "hint", id: "poster-logo-hint" }, "Image PNG ou JPEG de 2 Mo au plus, imprimée en haut à gauche."), logoFile),
    h("div", { class: "actions" }, logoRemove),
  );

  const form = h(
    "form",
    { class: "form poster-form", id: "poster-form", novalidate: true, "aria-labelledby": "poster-form-heading" },
    h("h2", { id: "poster-form-heading" }, "Contenu de l'affiche"),
    h("div", { class: "field" }, h("label", { for: "poster-format" }, "Format"), format),
    services.wrapper,
    email.wrapper,
    refreshField,
    logoFieldset,
  );

  const openButton = h("button", { type: "button", class: "button", id: "poster-open" }, "Ouvrir le PDF / Imprimer");
  const saveAsButton = h("button", { type: "button", class: "button secondary", id: "poster-save-as" }, "Enregistrer sous…");
  const saveButton = h("button", { type: "button", class: "button secondary", id: "poster-save" }, "Enregistrer dans Documents");
  const printActions = h("div", { class: "actions poster-actions" }, openButton, saveAsButton, saveButton);

  const image = h("img", { id: "poster-preview-image", alt: "", hidden: true });
  const caption = h("figcaption", { id: "poster-preview-caption" }, "Préparation de l'aperçu…");
  const preview = h("figure", { id: "poster-preview", class: "poster-preview", "aria-busy": "true" }, image, caption);

  const qrPng = h("button", { type: "button", class: "button secondary", id: "poster-qr-png" }, "QR code seul en PNG");
  const qrSvg = h("button", { type: "button", class: "button secondary", id: "poster-qr-svg" }, "QR code seul en SVG");
  const website = copyableText("poster-text-website", "Texte pour le site internet de la commune");
  const mail = copyableText("poster-text-email", "Texte de l'e-mail aux familles");
  const kit = h(
    "section",
    { class: "poster-kit", "aria-labelledby": "poster-kit-heading" },
    h("h2", { id: "poster-kit-heading" }, "Pour le site internet et le bulletin"),
    h("p", { class: "hint" }, "Le QR code seul est enregistré dans le dossier Documents ; les textes reprennent le lien de la commune."),
    h("div", { class: "actions" }, qrPng, qrSvg),
    website.wrapper,
    mail.wrapper,
  );

  main.replaceChildren(
    heading,
    h("p", { class: "view-commune" }, `Commune : ${commune.name}`),
    ...(several ? [h("p", { class: "hint" }, "Pour une autre commune, changez-la en haut de la fenêtre.")] : []),
    h("p", { class: "intro" }, "L'affiche explique aux familles comment transmettre leur quotient familial en ligne, avec un QR code vers le formulaire national de la commune. L'aperçu montre le PDF qui sera imprimé."),
    listing,
    h(
      "div",
      { class: "poster-layout" },
      h("div", { class: "poster-side" }, form, error, printActions, status),
      preview,
    ),
    kit,
  );

  /** @returns {PosterSettings} */
  function readSettings() {
    return {
      services: services.input.value,
      contact_email: email.input.value.trim() === "" ? null : email.input.value,
      refreshes: refreshes.checked,
    };
  }

  /** @param {LogoInfo | null} logo */
  function showLogo(logo) {
    setText(logoState, logo
      ? `Logo enregistré pour la commune : image ${logo.kind.toUpperCase()} de ${formatSize(logo.bytes)}.`
      : "Aucun logo.");
    logoRemove.hidden = !logo;
  }

  /**
   * Checks what the screen can check itself before asking the backend, which
   * checks everything again: refreshing QFs needs the e-mail to refuse at.
   * @returns {boolean}
   */
  function checkForm() {
    clearInvalid(form);
    if (refreshes.checked && email.input.value.trim() === "") {
      announce(error, "Quand la commune actualise les QF, l'affiche doit donner l'adresse e-mail à laquelle les familles peuvent refuser : indiquez l'e-mail de la mairie.");
      flagInvalid(email.input, error);
      return false;
    }
    return true;
  }

  let previewRequest = 0;
  /** @type {number | undefined} */
  let previewTimer;

  async function refreshPreview() {
    window.clearTimeout(previewTimer);
    const ticket = ++previewRequest;
    if (!checkForm()) {
      return;
    }
    preview.setAttribute("aria-busy", "true");
    try {
      const drawn = await posterPreview(communeId, /** @type {PosterFormat} */ (format.value), readSettings());
      if (ticket !== previewRequest) {
        return;
      }
      clearRegion(error);
      image.src = drawn.image;
      image.width = Math.round(drawn.width / 2);
      image.height = Math.round(drawn.height / 2);
      const label = FORMATS.find((f) => f.value === format.value)?.label ?? "";
      image.alt = `Aperçu de l'affiche ${label} de ${commune?.name ?? ""}`;
      image.hidden = false;
      // The link may break only before the SIRET, never inside it.
      const cut = drawn.printed_link.lastIndexOf("/") + 1;
      caption.replaceChildren(
        frenchSpacing(`Aperçu du PDF qui sera imprimé (${formatSize(drawn.pdf_bytes)}). Le QR code mène à :`),
        h("span", { class: "poster-link" }, drawn.printed_link.slice(0, cut), h("wbr"), drawn.printed_link.slice(cut)),
      );
      if (!kit.hidden && website.area.value !== "") {
        await refreshTexts();
      }
    } catch (reason) {
      if (ticket === previewRequest) {
        report(reason, error);
      }
    } finally {
      if (ticket === previewRequest) {
        preview.setAttribute("aria-busy", "false");
      }
    }
  }

  function schedulePreview() {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(refreshPreview, PREVIEW_DELAY_MS);
  }

  async function refreshTexts() {
    const texts = await posterTexts(communeId, readSettings());
    website.area.value = texts.website;
    mail.area.value = texts.email;
  }

  /** @param {ListingStatus} state */
  function showListing(state) {
    listing.className = state.state === "not_listed" ? "warning" : state.state === "open" ? "note listing-open" : "note";
    listing.setAttribute("role", state.state === "not_listed" ? "alert" : "status");
    listing.dataset.state = state.state;
    listing.replaceChildren(
      h("p", {}, h("strong", {}, state.state === "open" ? "Formulaire ouvert. " : state.state === "not_listed" ? "Formulaire non ouvert. " : "Vérification impossible. "), state.message),
    );
  }

  const currentFormat = () => /** @type {PosterFormat} */ (format.value);
  fileButton(openButton, { error, status, check: checkForm, action: () => posterOpen(communeId, currentFormat(), readSettings()), done: (p) => `L'${p.what} est ouverte dans le lecteur de PDF : imprimez-la depuis celui-ci. L'impression est inscrite au journal.` });
  fileButton(saveAsButton, { error, status, check: checkForm, action: () => posterSaveAs(communeId, currentFormat(), readSettings()), done: (p) => `L'${p.what} est enregistrée dans « ${p.path} » (${formatSize(p.bytes)}).` });
  fileButton(saveButton, { error, status, check: checkForm, action: () => posterSave(communeId, currentFormat(), readSettings()), done: (p) => `L'${p.what} est enregistrée dans « ${p.path} » (${formatSize(p.bytes)}).` });
  fileButton(qrPng, { error, status, check: checkForm, action: () => posterQrSave(communeId, "png"), done: (p) => `Le ${p.what} est enregistré dans « ${p.path} ».` });
  fileButton(qrSvg, { error, status, check: checkForm, action: () => posterQrSave(communeId, "svg"), done: (p) => `Le ${p.what} est enregistré dans « ${p.path} ».` });

  format.addEventListener("change", refreshPreview);
  refreshes.addEventListener("change", refreshPreview);
  // The services redraw as the agent types; the e-mail only once it is left,
  // so that a half-typed address is not reported as wrong.
  services.input.addEventListener("input", schedulePreview);
  services.input.addEventListener("change", refreshPreview);
  email.input.addEventListener("change", refreshPreview);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refreshPreview();
  });

  logoFile.addEventListener("change", async () => {
    const file = logoFile.files?.[0];
    if (!file) {
      return;
    }
    clearRegion(error);
    clearInvalid(form);
    if (file.size > LOGO_MAX_BYTES) {
      announce(error, `Le logo pèse ${formatSize(file.size)} : 2 Mo au plus. Enregistrez-le plus petit.`);
      flagInvalid(logoFile, error);
      logoFile.value = "";
      return;
    }
    try {
      showLogo(await posterLogoSet(communeId, await readAsBase64(file)));
      await refreshPreview();
    } catch (reason) {
      report(reason, error);
      flagInvalid(logoFile, error);
    } finally {
      logoFile.value = "";
    }
  });
  logoRemove.addEventListener("click", async () => {
    try {
      showLogo(await posterLogoSet(communeId, null));
      logoFile.focus();
      await refreshPreview();
    } catch (reason) {
      report(reason, error);
    }
  });

  posterStudio(communeId)
    .then((studio) => {
      services.input.value = studio.settings.services;
      email.input.value = studio.settings.contact_email ?? "";
      refreshes.checked = studio.settings.refreshes;
      showLogo(studio.logo);
      return Promise.all([refreshPreview(), refreshTexts()]);
    })
    .catch((reason) => report(reason, error));
  posterListing(communeId)
    .then(showListing)
    .catch((reason) => {
      listing.replaceChildren();
      report(reason, error);
    });

  return heading;
}
