// Recherche QF: the counter lookup. The agent types the allocataire's identity
// as written on the ID document the family shows, picks the birth place, says
// why the QF is consulted, ticks that the ID was checked, and gets the QF card.
// Every call is journaled by the backend; the identity typed here is stored
// only when the agent saves the card in the family file ("Enregistrer dans le
// dossier famille").

import { birthCommunes, birthCountries, counterLookup, familySaveCounter, qfTariffs } from "../api.js";
import { alertRegion, announce, clearInvalid, clearRegion, focusHeading, h, linkError, once, radioGroup, statusRegion, textField } from "../dom.js";
import { report } from "../errors.js";
import { formatMonth, formatQuotient } from "../format.js";
import { picker } from "../picker.js";
import { tariffsBlock } from "../tariffs.js";
import { openFamilyNext } from "./families.js";

/** @typedef {import("./shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/CounterResult").CounterResult} CounterResult */
/** @typedef {import("../bindings/CounterPerson").CounterPerson} CounterPerson */
/** @typedef {import("../bindings/CommuneOfBirth").CommuneOfBirth} CommuneOfBirth */
/** @typedef {import("../bindings/CountryOfBirth").CountryOfBirth} CountryOfBirth */
/** @typedef {import("../bindings/IdentityInput").IdentityInput} IdentityInput */
/** @typedef {import("../bindings/CounterDestination").CounterDestination} CounterDestination */
/** @typedef {import("../bindings/FamilySummary").FamilySummary} FamilySummary */

/** Why a QF is consulted; the journal keeps the words chosen. */
const MOTIFS = [
  "Inscription à la cantine",
  "Inscription au périscolaire (garderie, accueil du soir)",
  "Inscription à l'accueil de loisirs",
  "Révision du tarif à la demande de la famille",
  "Contrôle du tarif appliqué",
];

const MAX_PRENOMS = 3;

/** API Particulier keeps the current month and the 23 before it (spec §4). */
const HISTORY_MONTHS = 23;

/**
 * The months the agent may ask for, the current one first, as "AAAA-MM"
 * values. The backend checks the bounds again with the town hall's clock.
 * @param {Date} today
 * @returns {{ value: string, label: string }[]}
 */
function pastMonths(today) {
  const months = [];
  for (let back = 1; back <= HISTORY_MONTHS; back += 1) {
    const date = new Date(today.getFullYear(), today.getMonth() - back, 1);
    const year = date.getFullYear();
    const month = date.getMonth() + 1;
    months.push({ value: `${year}-${String(month).padStart(2, "0")}`, label: formatMonth(year, month) });
  }
  return months;
}

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderCounter(main, context) {
  const heading = h("h1", { id: "view-heading" }, "Recherche QF");
  const commune = context.currentCommune();
  if (!commune) {
    main.replaceChildren(heading, h("div", { class: "empty-state" }, h("p", {}, "Aucune commune n'est configurée : ajoutez-en une dans Paramètres.")));
    return heading;
  }
  const error = alertRegion("counter-error");
  const result = h("section", { id: "counter-result", "aria-labelledby": "counter-result-heading" });
  result.hidden = true;

  const nomNaissance = textField({ id: "counter-nom-naissance", label: "Nom de naissance", hint: "Tel qu'il figure sur la pièce d'identité." });
  const nomUsage = textField({ id: "counter-nom-usage", label: "Nom d'usage (facultatif)", hint: "Nom d'époux ou d'épouse, par exemple.", required: false });

  // First names: one field each, as many as the ID document shows (3 at most).
  const prenomsList = h("div", { id: "counter-prenoms" });
  /** @type {HTMLInputElement[]} */
  const prenoms = [];
  const addPrenom = h("button", { type: "button", class: "button secondary small", id: "counter-prenom-add" }, "Ajouter un prénom");
  function drawPrenoms() {
    prenomsList.replaceChildren(
      ...prenoms.map((input, index) => {
        const remove = h("button", { type: "button", class: "button secondary small" }, "Retirer", h("span", { class: "visually-hidden" }, ` le prénom ${index + 1}`));
        remove.hidden = prenoms.length === 1;
        remove.addEventListener("click", () => {
          prenoms.splice(index, 1);
          drawPrenoms();
          prenoms[Math.max(0, index - 1)].focus();
        });
        return h("div", { class: "field prenom-row" }, h("label", { for: input.id }, `Prénom ${index + 1}`), h("div", { class: "picker-chosen" }, input, remove));
      }),
    );
    addPrenom.hidden = prenoms.length >= MAX_PRENOMS;
  }
  function newPrenom() {
    const input = h("input", { type: "text", id: `counter-prenom-${prenoms.length + 1}`, autocomplete: "off", spellcheck: "false" });
    prenoms.push(input);
    // Ids follow the position so that labels stay right after a removal.
    prenoms.forEach((field, i) => {
      field.id = `counter-prenom-${i + 1}`;
    });
    drawPrenoms();
    return input;
  }
  addPrenom.addEventListener("click", () => newPrenom().focus());
  newPrenom();

  const sexe = radioGroup({
    idPrefix: "counter-sexe",
    name: "sexe",
    legend: "Sexe à l'état civil",
    options: [
      { value: "F", label: "Féminin" },
      { value: "M", label: "Masculin" },
    ],
    checked: "",
  });

  const jour = h("input", { type: "text", inputmode: "numeric", id: "counter-jour", class: "input-tiny", maxlength: "2", autocomplete: "off" });
  const mois = h("input", { type: "text", inputmode: "numeric", id: "counter-mois", class: "input-tiny", maxlength: "2", autocomplete: "off" });
  const annee = h("input", { type: "text", inputmode: "numeric", id: "counter-annee", class: "input-year", maxlength: "4", autocomplete: "off" });
  const birthDate = h(
    "fieldset",
    { class: "date-parts", "aria-describedby": "counter-date-hint" },
    h("legend", {}, "Date de naissance"),
    h("p", { class: "hint", id: "counter-date-hint" }, "Laissez le jour, ou le jour et le mois, vides s'ils sont inconnus. Plus la date est complète, plus la recherche est sûre."),
    h("div", { class: "date-row" },
      h("div", { class: "field" }, h("label", { for: "counter-jour" }, "Jour"), jour),
      h("div", { class: "field" }, h("label", { for: "counter-mois" }, "Mois"), mois),
      h("div", { class: "field" }, h("label", { for: "counter-annee" }, "Année"), annee)),
  );

  // Birth place: France (a commune, or a commune that cannot be found) or abroad.
  const where = radioGroup({
    idPrefix: "counter-lieu",
    name: "lieu",
    legend: "Lieu de naissance",
    options: [
      { value: "france", label: "En France" },
      { value: "introuvable", label: "En France, dans une commune introuvable dans la liste", hint: "Commune disparue ou renommée : indiquez son nom et son département." },
      { value: "etranger", label: "À l'étranger" },
    ],
    checked: "france",
  });
  const showError = (/** @type {unknown} */ reason) => report(reason, error);
  const communePicker = picker({
    id: "counter-commune",
    label: "Commune de naissance",
    hint: "Tapez le début du nom (accents facultatifs) ou le code INSEE, puis choisissez dans la liste.",
    search: birthCommunes,
    describe: (/** @type {CommuneOfBirth} */ c) => `${c.name} (${c.departement}) — code ${c.cog}${c.note ? ` — ${c.note}` : ""}`,
    key: (/** @type {CommuneOfBirth} */ c) => c.cog,
    onError: showError,
  });
  const countryPicker = picker({
    id: "counter-pays",
    label: "Pays de naissance",
    hint: "Tapez le début du nom du pays, puis choisissez dans la liste. Pays qui n'existe plus (Yougoslavie, Tchécoslovaquie…) : tapez son code INSEE à 5 chiffres, tel qu'il figure sur les papiers de la famille.",
    search: birthCountries,
    describe: (/** @type {CountryOfBirth} */ c) => `${c.name} — code ${c.cog}`,
    key: (/** @type {CountryOfBirth} */ c) => c.cog,
    onError: showError,
  });
  const lostName = textField({ id: "counter-commune-nom", label: "Nom de la commune de naissance", hint: "Tel qu'il figure sur la pièce d'identité." });
  const lostDepartement = textField({ id: "counter-departement", label: "Département de naissance (numéro)", hint: "Par exemple 42, 2A ou 971. L'année de naissance est alors obligatoire.", extra: { class: "input-short" } });
  const lostBox = h("div", {}, lostName.wrapper, lostDepartement.wrapper);
  function showPlace() {
    const value = where.value();
    communePicker.element.hidden = value !== "france";
    lostBox.hidden = value !== "introuvable";
    countryPicker.element.hidden = value !== "etranger";
  }
  where.fieldset.addEventListener("change", showPlace);
  showPlace();

  const motif = h(
    "select",
    { id: "counter-motif", "aria-describedby": "counter-motif-hint" },
    h("option", { value: "" }, "Choisissez le motif"),
    MOTIFS.map((text) => h("option", { value: text }, text)),
  );
  const period = h(
    "select",
    { id: "counter-periode", "aria-describedby": "counter-periode-hint" },
    h("option", { value: "" }, "Mois en cours"),
    pastMonths(new Date()).map((month) => h("option", { value: month.value }, month.label)),
  );
  const piece = h("input", { type: "checkbox", id: "counter-piece" });
  const submit = h("button", { type: "submit", class: "button", id: "counter-submit" }, "Consulter le quotient familial");

  const form = h(
    "form",
    { class: "form", id: "counter-form", novalidate: true },
    h("h2", {}, "Identité de l'allocataire"),
    nomNaissance.wrapper,
    nomUsage.wrapper,
    prenomsList,
    h("div", { class: "actions" }, addPrenom),
    sexe.fieldset,
    birthDate,
    where.fieldset,
    communePicker.element,
    lostBox,
    countryPicker.element,
    h("div", { class: "field" },
      h("label", { for: "counter-periode" }, "Quotient familial du mois de"),
      h("p", { class: "hint", id: "counter-periode-hint" }, "Le mois en cours, sauf pour vérifier le tarif d'un mois passé (jusqu'à 23 mois en arrière)."),
      period),
    h("h2", {}, "Motif et vérification"),
    h("div", { class: "field" },
      h("label", { for: "counter-motif" }, "Motif de la consultation"),
      h("p", { class: "hint", id: "counter-motif-hint" }, "Il est inscrit au journal des accès, comme la loi le demande."),
      motif),
    h("div", { class: "field checkbox" }, piece, h("label", { for: "counter-piece" }, "J'ai vérifié la pièce d'identité de la personne présente au guichet.")),
    h("div", { class: "actions" }, submit),
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    once(form, async () => {
      clearInvalid(form);
      clearRegion(error);
      /** @type {{ message: string, inputs: HTMLElement[] }[]} */
      const problems = [];
      if (nomNaissance.input.value.trim() === "") {
        problems.push({ message: "Indiquez le nom de naissance.", inputs: [nomNaissance.input] });
      }
      if (prenoms.every((input) => input.value.trim() === "")) {
        problems.push({ message: "Indiquez au moins un prénom.", inputs: [prenoms[0]] });
      }
      if (!sexe.value()) {
        problems.push({ message: "Indiquez le sexe à l'état civil.", inputs: [...sexe.fieldset.querySelectorAll("input")] });
      }
      const place = where.value();
      /** @type {CommuneOfBirth | null} */
      const commune = communePicker.selected();
      /** @type {CountryOfBirth | null} */
      const country = countryPicker.selected();
      if (place === "france" && !commune) {
        problems.push({ message: "Choisissez la commune de naissance dans la liste (ou « commune introuvable »).", inputs: [communePicker.input] });
      }
      if (place === "etranger" && !country) {
        problems.push({ message: "Choisissez le pays de naissance dans la liste.", inputs: [countryPicker.input] });
      }
      if (motif.value === "") {
        problems.push({ message: "Choisissez le motif de la consultation.", inputs: [motif] });
      }
      if (!piece.checked) {
        problems.push({ message: "Cochez la case : la pièce d'identité doit être vérifiée avant toute consultation.", inputs: [piece] });
      }
      if (problems.length > 0) {
        // Each field is invalid and described by its own line of the list,
        // which a screen reader reads when the agent reaches the field.
        const items = problems.map((problem, i) => {
          const item = h("li", { id: `counter-problem-${i + 1}` }, problem.message);
          for (const input of problem.inputs) {
            // A radio button is described by the problem, never "invalid"
            // (the state belongs to the whole group, which has no such role).
            if (!(input instanceof HTMLInputElement && input.type === "radio")) {
              input.setAttribute("aria-invalid", "true");
            }
            linkError(input, item.id);
          }
          return item;
        });
        error.replaceChildren(h("p", {}, "Le formulaire est incomplet :"), h("ul", {}, items));
        error.setAttribute("tabindex", "-1");
        error.focus();
        return;
      }
      const date = [annee.value.trim(), mois.value.trim().padStart(2, "0"), jour.value.trim().padStart(2, "0")];
      const dateText = date[0] === "" ? null : date[1] === "00" ? date[0] : date[2] === "00" ? `${date[0]}-${date[1]}` : date.join("-");
      const [periodYear, periodMonth] = period.value === "" ? [null, null] : period.value.split("-").map(Number);
      /** @type {IdentityInput} */
      const identite = {
        nom_naissance: nomNaissance.input.value,
        nom_usage: nomUsage.input.value.trim() === "" ? null : nomUsage.input.value,
        prenoms: prenoms.map((input) => input.value).filter((text) => text.trim() !== ""),
        sexe: sexe.value(),
        date_naissance: dateText,
        pays_naissance: place === "etranger" ? (country?.cog ?? "") : "99100",
        commune_naissance: place === "france" ? (commune?.cog ?? null) : null,
        commune_naissance_nom: place === "introuvable" ? lostName.input.value : null,
        departement_naissance: place === "introuvable" ? lostDepartement.input.value : null,
      };
      try {
        const found = await counterLookup({
          commune_id: /** @type {number} */ (context.currentCommune()?.id),
          motif: motif.value,
          piece_verifiee: piece.checked,
          annee: periodYear,
          mois: periodMonth,
          identite,
        });
        showResult(found, identite);
      } catch (reason) {
        result.hidden = true;
        clearRegion(announcer);
        report(reason, error);
      }
    });
  });

  /**
   * @param {CounterResult} found
   * @param {IdentityInput} identite the identity the card was found with
   */
  function showResult(found, identite) {
    const q = found.quotient;
    const title = h("h2", { id: "counter-result-heading", tabindex: "-1" }, "Quotient familial trouvé");
    const value = q === null
      ? "Aucun quotient familial dans la réponse (le jeton n'y donne peut-être pas accès)."
      : q.valeur === null
        ? "Ressources non connues : la caisse n'a pas calculé de quotient familial. Demandez l'attestation papier."
        : formatQuotient(q);
    result.replaceChildren(
      title,
      h(
        "dl",
        { class: "recap", id: "counter-result-qf" },
        h("dt", {}, "Quotient familial"),
        h("dd", { class: "qf-value" }, value),
        q ? [h("dt", {}, "Caisse"), h("dd", {}, q.fournisseur === "CNAF" ? "CAF (CNAF)" : (q.fournisseur ?? "non précisée"))] : null,
        q ? [h("dt", {}, "Mois du QF"), h("dd", {}, formatMonth(q.annee, q.mois))] : null,
        q && q.annee_calcul !== null ? [h("dt", {}, "Calculé en"), h("dd", {}, formatMonth(q.annee_calcul, q.mois_calcul))] : null,
      ),
      q ? tariffsBlock("counter-result-tariffs", () => qfTariffs(commune.id, q.valeur)) : "",
      // A block the token has no scope for is left out, not shown empty.
      ...(found.allocataires ? [h("h3", {}, "Allocataires"), people(found.allocataires, "counter-result-allocataires")] : []),
      ...(found.enfants ? [h("h3", {}, "Enfants"), people(found.enfants, "counter-result-enfants")] : []),
      ...(found.adresse
        ? [
            h("h3", {}, "Adresse connue de la caisse"),
            h("address", { id: "counter-result-adresse" }, found.adresse.flatMap((line, i) => (i === 0 ? [line] : [h("br", {}), line]))),
            h("p", { class: "hint" }, "Adresse déclarée par la famille à sa caisse : elle peut ne plus être à jour."),
          ]
        : []),
      found.request_id ? h("p", { class: "note" }, `Identifiant de la réponse (pour le support) : ${found.request_id}`) : "",
      familyBlock(found, identite),
    );
    result.hidden = false;
    // Focus moves to the card for keyboard users; the status region reads the
    // essential out for screen readers, whatever they were reading.
    announce(announcer, q === null || q.valeur === null ? `Réponse reçue : ${value}` : `Quotient familial trouvé : ${value}, ${formatMonth(q.annee, q.mois)}.`);
    focusHeading(title);
  }

  /**
   * "Enregistrer dans le dossier famille": the card goes into the family the
   * backend recognises; when it is not sure, the agent chooses between the
   * close families and a new one.
   * @param {CounterResult} found
   * @param {IdentityInput} identite
   */
  function familyBlock(found, identite) {
    const save = h("button", { type: "button", class: "button", id: "counter-save-family", "aria-describedby": "counter-save-family-hint" }, "Enregistrer dans le dossier famille");
    const status = statusRegion("counter-family-status");
    const problem = alertRegion("counter-family-error");
    const choices = h("div", { id: "counter-family-choices" });
    const hint = h("p", { class: "hint", id: "counter-save-family-hint" }, "Le quotient familial, la famille et l'identité saisie rejoignent le dossier de la famille, pour l'historique et l'actualisation automatique.");
    const communeId = /** @type {number} */ (context.currentCommune()?.id);

    /**
     * @param {HTMLElement} button
     * @param {CounterDestination} destination
     */
    function send(button, destination) {
      once(button, async () => {
        clearRegion(problem);
        try {
          const saved = await familySaveCounter(communeId, identite, found, destination);
          if (saved.family) {
            done(saved.family, saved.outcome.type === "created");
          } else {
            choose(saved.candidates.map((c) => c.family));
          }
        } catch (reason) {
          report(reason, problem);
        }
      });
    }

    /**
     * @param {FamilySummary} family
     * @param {boolean} created
     */
    function done(family, created) {
      save.hidden = true;
      hint.hidden = true;
      const open = h("button", { type: "button", class: "link-button", id: "counter-family-open", "data-family-id": String(family.id) }, "Ouvrir le dossier de la famille");
      open.addEventListener("click", () => {
        openFamilyNext(family.id);
        context.navigate("familles");
      });
      choices.replaceChildren(h("p", {}, open));
      announce(status, created
        ? `Enregistré : une nouvelle famille a été créée (${family.names}).`
        : `Enregistré dans la famille ${family.names}.`);
      open.focus();
    }

    /** @param {FamilySummary[]} families */
    function choose(families) {
      // The choice replaces the button, so that it is the only way on.
      save.hidden = true;
      const title = h("h3", { id: "counter-family-choose", tabindex: "-1" }, "À quelle famille ajouter ce résultat ?");
      const fresh = h("button", { type: "button", class: "button secondary", id: "counter-family-new" }, "Nouvelle famille");
      fresh.addEventListener("click", () => send(fresh, { type: "new" }));
      choices.replaceChildren(
        title,
        h("p", { class: "hint" }, "Une ou plusieurs familles déjà connues ressemblent à cette famille sans que ce soit certain. Vérifiez les noms et les dates de naissance."),
        h("ul", { class: "family-results" }, families.map((family) => {
          const add = h("button", { type: "button", class: "button small", "data-counter-family-id": String(family.id) }, "Ajouter à la famille ", family.names);
          add.addEventListener("click", () => send(add, { type: "family", family_id: family.id }));
          return h("li", {}, add, h("span", { class: "family-code" }, " — code ", h("span", { class: "mono" }, family.external_id)));
        })),
        h("div", { class: "actions" }, fresh),
      );
      focusHeading(title);
    }

    save.addEventListener("click", () => send(save, { type: "reconcile" }));
    return h("div", { class: "counter-family", id: "counter-family" },
      h("div", { class: "actions" }, save),
      hint,
      status,
      problem,
      choices);
  }

  const announcer = statusRegion("counter-announce");
  announcer.classList.add("visually-hidden");
  main.replaceChildren(heading, h("p", { class: "view-commune" }, `Commune : ${commune.name}`), error, form, announcer, result);
  return heading;
}

/**
 * @param {CounterPerson[]} list
 * @param {string} id
 */
function people(list, id) {
  if (list.length === 0) {
    return h("p", { id }, "Aucun dans la réponse.");
  }
  return h(
    "ul",
    { id, class: "people" },
    list.map((person) => h("li", {}, h("strong", {}, person.nom_usage ?? person.nom_naissance ?? ""), ` ${person.prenoms ?? ""}`, person.date_naissance ? ` — ${person.date_naissance}` : "")),
  );
}
