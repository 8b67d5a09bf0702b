// Tarifs: the commune's tariff grids, copied from the municipal council's
// délibération. Every agent sees the grids and the anonymous distribution of
// the families per bracket (for the council); administrators create, change
// and delete grids. The backend checks a grid as it is typed (overlaps,
// unordered bounds, floor above ceiling, a crèche/EAJE refused with the CNAF
// rules) and the gaps a délibération really has are confirmed here.

import { tariffDistribution, tariffGridCheck, tariffGridDelete, tariffGridSave, tariffGrids } from "../api.js";
import { confirmAction } from "../dialogs.js";
import { alertRegion, announce, clearInvalid, clearRegion, flagInvalid, focusHeading, h, linkError, once, radioGroup, statusRegion, textField, unflag } from "../dom.js";
import { report } from "../errors.js";
import { eurosInput, formatCents, parseEuros } from "../tariffs.js";

/** @typedef {import("./shell.js").ShellContext} ShellContext */
/** @typedef {import("../bindings/TariffGrid").TariffGrid} TariffGrid */
/** @typedef {import("../bindings/TariffBracket").TariffBracket} TariffBracket */
/** @typedef {import("../bindings/TariffProblem").TariffProblem} TariffProblem */
/** @typedef {import("../bindings/TariffDistribution").TariffDistribution} TariffDistribution */
/** @typedef {import("../bindings/TariffServiceKind").TariffServiceKind} TariffServiceKind */

/** The units délibérations use, offered as suggestions; any other may be typed. */
const UNITS = ["repas", "heure", "demi-heure", "quart d'heure", "séance", "demi-journée", "journée", "semaine", "mois"];

/**
 * "23/11/2026" from "2026-11-23".
 * @param {string} iso
 */
function frenchDay(iso) {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

/** Today in the window's time zone, as the backend's grids write days. */
function todayIso() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

/** @param {TariffGrid} grid */
function validity(grid) {
  return grid.valid_to === null
    ? `à partir du ${frenchDay(grid.valid_from)}`
    : `du ${frenchDay(grid.valid_from)} au ${frenchDay(grid.valid_to)}`;
}

/** @param {TariffGrid} grid */
function validToday(grid) {
  const today = todayIso();
  return grid.valid_from <= today && (grid.valid_to === null || today <= grid.valid_to);
}

/** @param {TariffGrid} grid */
function pricingSummary(grid) {
  if (grid.pricing.kind === "tranches") {
    const n = grid.pricing.brackets.length;
    return `${n} tranche${n > 1 ? "s" : ""}`;
  }
  return `taux d'effort ${grid.pricing.rate}`;
}

/**
 * @param {HTMLElement} main
 * @param {ShellContext} context
 * @returns {HTMLElement} the view's heading
 */
export function renderTariffs(main, context) {
  const heading = h("h1", { id: "view-heading" }, "Tarifs");
  const commune = context.currentCommune();
  if (!commune) {
    main.replaceChildren(heading, h("div", { class: "empty-state" }, h("p", {}, "Aucune commune n'est configurée : ajoutez-en une dans Paramètres.")));
    return heading;
  }
  const error = alertRegion("tariffs-error");
  const status = statusRegion("tariffs-status");
  const view = h("div", { id: "tariffs-view" });
  main.replaceChildren(
    heading,
    h("p", { class: "view-commune" }, `Commune : ${commune.name}`),
    h("p", { class: "intro" }, "Les tarifs des services selon le quotient familial, recopiés de la délibération du conseil municipal. Le tarif de chaque famille s'affiche ensuite partout où son quotient familial apparaît."),
    error,
    status,
    view,
  );
  showList(false);
  return heading;

  /**
   * The grids and the distribution.
   * @param {boolean} moveFocus
   * @param {string} [done] announced once the list is drawn
   */
  async function showList(moveFocus, done) {
    view.replaceChildren(h("p", {}, "Chargement…"));
    /** @type {TariffGrid[]} */
    let grids;
    try {
      grids = await tariffGrids(commune.id);
    } catch (reason) {
      view.replaceChildren();
      report(reason, error);
      return;
    }
    const title = h("h2", { id: "tariff-grids-heading", tabindex: "-1" }, "Grilles tarifaires");
    const add = context.isAdmin ? h("button", { type: "button", class: "button", id: "tariff-new" }, "Nouvelle grille") : null;
    add?.addEventListener("click", () => showEditor(null));
    const table = grids.length === 0
      ? h("p", { id: "tariff-grids" }, context.isAdmin
        ? "Aucune grille n'est encore saisie. Commencez par « Nouvelle grille », la délibération sous les yeux."
        : "Aucune grille n'est encore saisie. Un administrateur les saisit ici, d'après la délibération.")
      : h(
        "table",
        { class: "table", id: "tariff-grids" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Service"),
          h("th", { scope: "col" }, "Validité"),
          h("th", { scope: "col" }, "Tarification"),
          h("th", { scope: "col", class: "number" }, "Tarif si QF non connu"),
          context.isAdmin ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null)),
        h("tbody", {}, grids.map((grid) => gridRow(grid))),
      );
    view.replaceChildren(
      h("section", { "aria-labelledby": "tariff-grids-heading" }, title, add ? h("div", { class: "actions" }, add) : null, table),
      distributionSection(grids),
    );
    if (done) {
      announce(status, done);
    }
    if (moveFocus) {
      focusHeading(title);
    }
  }

  /** @param {TariffGrid} grid */
  function gridRow(grid) {
    const current = validToday(grid);
    /** @type {HTMLElement | null} */
    let actions = null;
    if (context.isAdmin) {
      const edit = h("button", { type: "button", class: "button secondary small", "data-action": "edit" }, "Modifier", h("span", { class: "visually-hidden" }, ` la grille ${grid.service}`));
      edit.addEventListener("click", () => showEditor(grid));
      const remove = h("button", { type: "button", class: "button danger small", "data-action": "delete" }, "Supprimer", h("span", { class: "visually-hidden" }, ` la grille ${grid.service}`));
      remove.addEventListener("click", () => once(remove, async () => {
        const sure = await confirmAction({
          title: `Supprimer la grille « ${grid.service} » ?`,
          message: [
            `La grille ${validity(grid)} ne servira plus à calculer les tarifs. Les quotients familiaux des familles ne changent pas.`,
            "Une sauvegarde de la base est faite avant la suppression.",
          ],
          confirmLabel: "Supprimer la grille",
          danger: true,
        });
        if (!sure) {
          return;
        }
        clearRegion(error);
        try {
          await tariffGridDelete(commune.id, /** @type {number} */ (grid.id));
          await showList(true, `Grille « ${grid.service} » supprimée.`);
        } catch (reason) {
          report(reason, error);
        }
      }));
      actions = h("td", { class: "row-actions" }, edit, remove);
    }
    return h(
      "tr",
      { "data-grid-id": String(grid.id), "data-service": grid.service },
      h("th", { scope: "row" }, grid.service),
      h("td", {}, validity(grid), current ? [" ", h("span", { class: "tag" }, "en vigueur")] : null),
      h("td", {}, `${pricingSummary(grid)}, par ${grid.unit}`),
      h("td", { class: "number" }, formatCents(grid.default_cents)),
      actions,
    );
  }

  /**
   * "Répartition des familles": one small bar chart per service priced today,
   * counts only (no name), for the municipal council.
   * @param {TariffGrid[]} grids
   */
  function distributionSection(grids) {
    const services = grids.filter(validToday).map((g) => g.service);
    const charts = h("div", { id: "tariff-distribution" });
    const section = h(
      "section",
      { "aria-labelledby": "tariff-distribution-heading", class: "tariff-distribution" },
      h("h2", { id: "tariff-distribution-heading" }, "Répartition des familles par tranche"),
      h("p", { class: "hint" }, "Nombre de familles de la commune dans chaque tranche des grilles en vigueur aujourd'hui, d'après leur dernier quotient familial. Aucun nom : ces chiffres peuvent être présentés au conseil municipal."),
      charts,
    );
    if (services.length === 0) {
      charts.append(h("p", {}, "Aucune grille n'est en vigueur aujourd'hui."));
      return section;
    }
    for (const service of services) {
      const slot = h("div", {}, h("p", {}, `Chargement de « ${service} »…`));
      charts.append(slot);
      tariffDistribution(commune.id, service)
        .then((d) => slot.replaceWith(chart(d)))
        .catch((reason) => {
          slot.replaceChildren();
          report(reason, error);
        });
    }
    return section;
  }

  /**
   * One service's distribution as a table whose last column draws a bar; the
   * numbers are text, so nothing is said by the bars alone.
   * @param {TariffDistribution} d
   */
  function chart(d) {
    const rows = [
      ...d.rows.map((r) => ({ label: r.label, price: r.price_cents, families: r.families })),
      { label: "QF non connu (tarif par défaut)", price: null, families: d.unknown_qf },
    ];
    const most = Math.max(1, ...rows.map((r) => r.families));
    const id = `tariff-chart-${d.grid_id}`;
    return h(
      "figure",
      { class: "chart", id, "data-service": d.service },
      h("figcaption", {}, `${d.service} : ${d.total} famille${d.total > 1 ? "s" : ""}`),
      h(
        "table",
        { class: "table chart-table" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Tranche"),
          h("th", { scope: "col", class: "number" }, `Tarif par ${d.unit}`),
          h("th", { scope: "col", class: "number" }, "Familles"),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Graphique")))),
        h("tbody", {}, rows.map((r) => {
          const bar = h("span", { class: "bar", "aria-hidden": "true" });
          // CSSOM, which the content security policy allows (no style attribute).
          bar.style.width = `${Math.round((r.families / most) * 100)}%`;
          return h(
            "tr",
            {},
            h("th", { scope: "row" }, r.label),
            h("td", { class: "number" }, r.price === null ? "—" : formatCents(r.price)),
            h("td", { class: "number", "data-count": String(r.families) }, String(r.families)),
            h("td", { class: "bar-cell" }, bar),
          );
        })),
      ),
    );
  }

  /**
   * The grid form: a new grid (`null`) or a copy of one to change. The
   * problems come from the backend as the agent types, each next to the form;
   * gaps the délibération really has are confirmed with a checkbox.
   * @param {TariffGrid | null} original
   */
  function showEditor(original) {
    clearRegion(error);
    clearRegion(status);
    const title = h("h2", { id: "tariff-editor-heading", tabindex: "-1" }, original ? `Modifier la grille « ${original.service} »` : "Nouvelle grille tarifaire");
    const formError = alertRegion("tariff-editor-error");
    const service = textField({ id: "tariff-service", label: "Service", hint: "Comme la délibération le nomme : cantine, périscolaire du soir, accueil de loisirs…", value: original?.service ?? "" });
    const kind = radioGroup({
      idPrefix: "tariff-kind",
      name: "tariff-kind",
      legend: "Type de service",
      options: [
        { value: "ordinaire", label: "Restauration scolaire, périscolaire, accueil de loisirs, autre" },
        { value: "creche_eaje", label: "Crèche ou autre établissement d'accueil du jeune enfant (EAJE)", hint: "Ces tarifs suivent le barème PSU de la CNAF et ne peuvent pas être calculés avec ce quotient familial." },
      ],
      checked: original?.kind ?? "ordinaire",
    });
    const from = textField({ id: "tariff-valid-from", label: "En vigueur à partir du", type: "date", value: original?.valid_from ?? todayIso() });
    const to = textField({ id: "tariff-valid-to", label: "Jusqu'au (facultatif)", hint: "Laissez vide tant qu'aucune nouvelle délibération ne la remplace.", type: "date", value: original?.valid_to ?? "", required: false });
    const unitList = h("datalist", { id: "tariff-units" }, UNITS.map((u) => h("option", { value: u })));
    const unit = textField({ id: "tariff-unit", label: "Unité facturée", hint: "Repas, heure, demi-journée…", value: original?.unit ?? "repas", extra: { list: "tariff-units" } });
    const defaultPrice = textField({ id: "tariff-default", label: "Tarif si le QF n'est pas connu (en euros)", hint: "Appliqué sans quotient familial ou quand la caisse indique « ressources non connues » ; souvent le tarif le plus élevé.", value: eurosInput(original?.default_cents ?? null), inputmode: "decimal" });
    const mode = radioGroup({
      idPrefix: "tariff-mode",
      name: "tariff-mode",
      legend: "Mode de calcul",
      options: [
        { value: "tranches", label: "Par tranches de quotient familial" },
        { value: "taux_effort", label: "Taux d'effort (tarif = QF × taux, entre un plancher et un plafond)" },
      ],
      checked: original?.pricing.kind ?? "tranches",
    });

    // Brackets: one row each, bounds in whole euros, both included.
    const bracketRows = h("tbody", { id: "tariff-brackets" });
    /** @param {TariffBracket | null} b */
    function addBracket(b) {
      const n = bracketRows.children.length + 1;
      const cell = (/** @type {string} */ name, /** @type {string} */ label, /** @type {string} */ value, /** @type {string} */ inputmode) => {
        const id = `tariff-bracket-${n}-${name}`;
        const input = h("input", { id, name: id, type: "text", inputmode, autocomplete: "off", "data-field": name, class: "input-small" });
        input.value = value;
        return h("td", {}, h("label", { for: id, class: "visually-hidden" }, `${label}, tranche ${n}`), input);
      };
      const remove = h("button", { type: "button", class: "button secondary small" }, "Retirer", h("span", { class: "visually-hidden" }, ` la tranche ${n}`));
      const row = h(
        "tr",
        { "data-bracket": String(n) },
        cell("label", "Nom", b?.label ?? `Tranche ${n}`, "text"),
        cell("min", "QF de", b ? String(b.min) : "", "numeric"),
        cell("max", "QF jusqu'à", b && b.max !== null ? String(b.max) : "", "numeric"),
        cell("price", "Tarif en euros", eurosInput(b?.price_cents ?? null), "decimal"),
        h("td", {}, remove),
      );
      remove.addEventListener("click", () => {
        row.remove();
        scheduleCheck();
      });
      bracketRows.append(row);
      return row;
    }
    const addRow = h("button", { type: "button", class: "button secondary", id: "tariff-bracket-add" }, "Ajouter une tranche");
    addRow.addEventListener("click", () => {
      const row = addBracket(null);
      /** @type {HTMLInputElement | null} */ (row.querySelector("[data-field=min]"))?.focus();
    });
    const brackets = original?.pricing.kind === "tranches" ? original.pricing.brackets : [];
    for (const b of brackets) {
      addBracket(b);
    }
    if (bracketRows.children.length === 0) {
      addBracket(null);
    }
    const bracketsBlock = h(
      "fieldset",
      { id: "tariff-brackets-block" },
      h("legend", {}, "Tranches"),
      h("p", { class: "hint", id: "tariff-brackets-hint" }, "Bornes en euros, toutes deux comprises (« de 0 à 622 » puis « de 623 à 1000 »). Laissez « jusqu'à » vide pour la dernière tranche ouverte (« 1501 et plus »)."),
      h("table", { class: "table brackets-table", "aria-describedby": "tariff-brackets-hint" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Nom"),
          h("th", { scope: "col" }, "QF de (€)"),
          h("th", { scope: "col" }, "QF jusqu'à (€)"),
          h("th", { scope: "col" }, "Tarif (€)"),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Retirer")))),
        bracketRows),
      h("div", { class: "actions" }, addRow),
    );

    const rate = original?.pricing.kind === "taux_effort" ? original.pricing : null;
    const rateField = textField({ id: "tariff-rate", label: "Taux d'effort", hint: "Tel qu'écrit dans la délibération, en décimal : 0,0036 pour 0,36 %.", value: rate?.rate ?? "", inputmode: "decimal" });
    const floorField = textField({ id: "tariff-floor", label: "Tarif plancher en euros (facultatif)", value: eurosInput(rate?.floor_cents ?? null), inputmode: "decimal", required: false });
    const ceilingField = textField({ id: "tariff-ceiling", label: "Tarif plafond en euros (facultatif)", value: eurosInput(rate?.ceiling_cents ?? null), inputmode: "decimal", required: false });
    const qfFloorField = textField({ id: "tariff-qf-floor", label: "QF minimum pris en compte (facultatif)", value: rate?.qf_floor != null ? String(rate.qf_floor) : "", inputmode: "numeric", required: false });
    const qfCeilingField = textField({ id: "tariff-qf-ceiling", label: "QF maximum pris en compte (facultatif)", value: rate?.qf_ceiling != null ? String(rate.qf_ceiling) : "", inputmode: "numeric", required: false });
    const rateBlock = h("fieldset", { id: "tariff-rate-block" }, h("legend", {}, "Taux d'effort"), rateField.wrapper, floorField.wrapper, ceilingField.wrapper, qfFloorField.wrapper, qfCeilingField.wrapper);

    const problemsList = h("div", { id: "tariff-problems", "aria-live": "polite" });
    const confirmBox = h("input", { type: "checkbox", id: "tariff-gaps-confirmed" });
    confirmBox.checked = original?.gaps_confirmed ?? false;
    const confirmField = h("div", { class: "field checkbox", id: "tariff-gaps-field" }, confirmBox, h("label", { for: "tariff-gaps-confirmed" }, "Je confirme que ces écarts entre tranches figurent bien dans la délibération (un QF dans un écart paiera le tarif par défaut)."));
    confirmField.hidden = true;

    const save = h("button", { type: "submit", class: "button", id: "tariff-save" }, "Enregistrer la grille");
    const cancel = h("button", { type: "button", class: "button secondary", id: "tariff-cancel" }, "Annuler");
    cancel.addEventListener("click", () => showList(true));

    // A crèche is never priced here: its pricing fields go, and the
    // backend's message says why and what to do instead.
    function showMode() {
      const creche = kind.value() === "creche_eaje";
      const tranches = mode.value() === "tranches";
      for (const element of [defaultPrice.wrapper, mode.fieldset, save]) {
        element.hidden = creche;
      }
      bracketsBlock.hidden = creche || !tranches;
      rateBlock.hidden = creche || tranches;
    }
    for (const group of [mode.fieldset, kind.fieldset]) {
      group.addEventListener("change", () => {
        showMode();
        scheduleCheck();
      });
    }
    showMode();

    /**
     * The grid as typed, or the French message of the first field that is
     * not a number, with the field to put focus in.
     * @returns {{ grid: TariffGrid } | { message: string, input: HTMLInputElement }}
     */
    function read() {
      /**
       * @param {HTMLInputElement} input
       * @param {string} what
       * @returns {number | null | { message: string, input: HTMLInputElement }}
       */
      const euros = (input, what) => {
        if (input.value.trim() === "") {
          return null;
        }
        const cents = parseEuros(input.value);
        return cents === null ? { message: `${what} n'est pas un montant en euros (par exemple 3,50).`, input } : cents;
      };
      /**
       * @param {HTMLInputElement} input
       * @param {string} what
       * @returns {number | null | { message: string, input: HTMLInputElement }}
       */
      const whole = (input, what) => {
        const text = input.value.replace(/[\s€]/g, "");
        if (text === "") {
          return null;
        }
        return /^-?\d{1,7}$/.test(text) ? Number(text) : { message: `${what} doit être un nombre entier d'euros (par exemple 622).`, input };
      };
      const isProblem = (/** @type {unknown} */ v) => v !== null && typeof v === "object";
      const defaultCents = euros(defaultPrice.input, "Le tarif si le QF n'est pas connu");
      if (isProblem(defaultCents)) {
        return /** @type {{ message: string, input: HTMLInputElement }} */ (defaultCents);
      }
      if (defaultCents === null) {
        return { message: "Indiquez le tarif appliqué quand le QF n'est pas connu.", input: defaultPrice.input };
      }
      if (!from.input.value) {
        return { message: "Indiquez la date d'entrée en vigueur de la grille.", input: from.input };
      }
      /** @type {TariffGrid["pricing"]} */
      let pricing;
      if (mode.value() === "tranches") {
        /** @type {TariffBracket[]} */
        const list = [];
        for (const [i, row] of [...bracketRows.children].entries()) {
          const input = (/** @type {string} */ f) => /** @type {HTMLInputElement} */ (row.querySelector(`[data-field=${f}]`));
          const n = i + 1;
          const min = whole(input("min"), `Le début de la tranche ${n}`);
          const max = whole(input("max"), `La fin de la tranche ${n}`);
          const price = euros(input("price"), `Le tarif de la tranche ${n}`);
          for (const v of [min, max, price]) {
            if (isProblem(v)) {
              return /** @type {{ message: string, input: HTMLInputElement }} */ (v);
            }
          }
          if (min === null) {
            return { message: `Indiquez le QF à partir duquel s'applique la tranche ${n} (0 pour la première).`, input: input("min") };
          }
          if (price === null) {
            return { message: `Indiquez le tarif de la tranche ${n}.`, input: input("price") };
          }
          list.push({ label: input("label").value.trim(), min: /** @type {number} */ (min), max: /** @type {number | null} */ (max), price_cents: /** @type {number} */ (price) });
        }
        pricing = { kind: "tranches", brackets: list };
      } else {
        const values = [
          euros(floorField.input, "Le tarif plancher"),
          euros(ceilingField.input, "Le tarif plafond"),
          whole(qfFloorField.input, "Le QF minimum"),
          whole(qfCeilingField.input, "Le QF maximum"),
        ];
        const wrong = values.find(isProblem);
        if (wrong) {
          return /** @type {{ message: string, input: HTMLInputElement }} */ (wrong);
        }
        const [floor, ceiling, qfFloor, qfCeiling] = /** @type {(number | null)[]} */ (values);
        pricing = { kind: "taux_effort", rate: rateField.input.value.trim(), floor_cents: floor, ceiling_cents: ceiling, qf_floor: qfFloor, qf_ceiling: qfCeiling };
      }
      return {
        grid: {
          id: original?.id ?? null,
          service: service.input.value.trim(),
          kind: /** @type {TariffServiceKind} */ (kind.value()),
          valid_from: from.input.value,
          valid_to: to.input.value || null,
          unit: unit.input.value.trim(),
          default_cents: /** @type {number} */ (defaultCents),
          pricing,
          gaps_confirmed: confirmBox.checked,
        },
      };
    }

    // The fields a problem of the backend names, so that each problem is read
    // out with its field (a bracket's problem with the whole row).
    /** @type {Record<string, HTMLInputElement>} */
    const problemFields = {
      service: service.input,
      unit: unit.input,
      valid_to: to.input,
      default_cents: defaultPrice.input,
      rate: rateField.input,
      floor_cents: floorField.input,
      ceiling_cents: ceilingField.input,
      qf_floor: qfFloorField.input,
      qf_ceiling: qfCeilingField.input,
    };
    const BRACKET_FIELDS = { min: "min", max: "max", price_cents: "price" };
    /**
     * @param {TariffProblem} problem
     * @returns {HTMLInputElement[]}
     */
    function inputsOf(problem) {
      if (problem.bracket !== null) {
        // The rows in their order, as read() sends them (a row's number stays
        // what it was when it was added, even after another is removed).
        const row = bracketRows.children[problem.bracket];
        const only = /** @type {Record<string, string>} */ (BRACKET_FIELDS)[problem.field];
        return row ? [.../** @type {NodeListOf<HTMLInputElement>} */ (row.querySelectorAll(only ? `input[data-field="${only}"]` : "input"))] : [];
      }
      const input = problemFields[problem.field];
      return input ? [input] : [];
    }

    /** @type {HTMLInputElement[]} */
    let linkedToProblems = [];
    /** @param {TariffProblem[]} problems */
    function showProblems(problems) {
      for (const input of linkedToProblems) {
        unflag(input);
      }
      linkedToProblems = [];
      const warnings = problems.filter((p) => p.severity === "avertissement");
      confirmField.hidden = warnings.length === 0;
      if (problems.length === 0) {
        problemsList.replaceChildren(h("p", { class: "success-text" }, "La grille est cohérente."));
        return;
      }
      problemsList.replaceChildren(
        h("ul", { class: "problems" }, problems.map((p, i) => {
          const id = `tariff-problem-${i + 1}`;
          for (const input of inputsOf(p)) {
            // Only an error makes a field invalid; a warning is only described.
            if (p.severity === "erreur") {
              input.setAttribute("aria-invalid", "true");
            }
            linkError(input, id);
            linkedToProblems.push(input);
          }
          return h(
            "li",
            { id, class: p.severity === "erreur" ? "problem-error" : "problem-warning", "data-field": p.field, "data-bracket": p.bracket === null ? null : String(p.bracket + 1) },
            h("strong", {}, p.severity === "erreur" ? "À corriger : " : "À vérifier : "),
            p.message,
          );
        })),
      );
    }

    let checkTimer = 0;
    let checkSeq = 0;
    function scheduleCheck() {
      window.clearTimeout(checkTimer);
      checkTimer = window.setTimeout(runCheck, 400);
    }
    async function runCheck() {
      if (kind.value() === "creche_eaje") {
        const crecheGrid = /** @type {TariffGrid} */ ({ id: null, service: service.input.value, kind: "creche_eaje", valid_from: from.input.value || todayIso(), valid_to: null, unit: unit.input.value, default_cents: 0, pricing: { kind: "tranches", brackets: [] }, gaps_confirmed: false });
        const seq = ++checkSeq;
        try {
          const problems = await tariffGridCheck(crecheGrid);
          if (seq === checkSeq) {
            showProblems(problems.filter((p) => p.field === "kind"));
          }
        } catch (reason) {
          report(reason, formError);
        }
        return;
      }
      const typed = read();
      if (!("grid" in typed)) {
        problemsList.replaceChildren(h("ul", { class: "problems" }, h("li", { class: "problem-error" }, h("strong", {}, "À corriger : "), typed.message)));
        return;
      }
      const seq = ++checkSeq;
      try {
        const problems = await tariffGridCheck(typed.grid);
        if (seq === checkSeq) {
          showProblems(problems);
        }
      } catch (reason) {
        report(reason, formError);
      }
    }

    const form = h(
      "form",
      { id: "tariff-editor", novalidate: true, "aria-labelledby": "tariff-editor-heading" },
      service.wrapper,
      kind.fieldset,
      h("div", { class: "field-row" }, from.wrapper, to.wrapper),
      unit.wrapper,
      unitList,
      defaultPrice.wrapper,
      mode.fieldset,
      bracketsBlock,
      rateBlock,
      h("section", { "aria-labelledby": "tariff-check-heading", class: "tariff-check" },
        h("h3", { id: "tariff-check-heading" }, "Vérification"),
        problemsList,
        confirmField),
      formError,
      h("div", { class: "actions" }, save, cancel),
    );
    form.addEventListener("input", scheduleCheck);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      once(form, async () => {
        clearRegion(formError);
        clearInvalid(form);
        const typed = read();
        if (!("grid" in typed)) {
          announce(formError, typed.message);
          flagInvalid(typed.input, formError);
          return;
        }
        try {
          const problems = await tariffGridCheck(typed.grid);
          showProblems(problems);
          const errors = problems.filter((p) => p.severity === "erreur");
          const gaps = problems.filter((p) => p.severity === "avertissement");
          if (errors.length > 0) {
            announce(formError, `La grille ne peut pas être enregistrée : ${errors.map((p) => p.message).join(" ")}`);
            return;
          }
          if (gaps.length > 0 && !confirmBox.checked) {
            announce(formError, "La grille a des écarts entre tranches : vérifiez la délibération, puis cochez la confirmation.");
            confirmBox.focus();
            return;
          }
          await tariffGridSave(commune.id, typed.grid);
          await showList(true, `Grille « ${typed.grid.service} » enregistrée.`);
        } catch (reason) {
          report(reason, formError);
        }
      });
    });

    view.replaceChildren(h("section", { class: "tariff-editor", "aria-labelledby": "tariff-editor-heading" }, title, form));
    focusHeading(title);
    runCheck();
  }
}
