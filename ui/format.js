// French display of the values the backend sends. The backend speaks in stable
// codes (enum values, RFC 3339 UTC dates, byte counts); the words an agent reads
// are chosen here, in one place.

/** @typedef {import("./bindings/Environment").Environment} Environment */
/** @typedef {import("./bindings/SecretKind").SecretKind} SecretKind */
/** @typedef {import("./bindings/BackupKind").BackupKind} BackupKind */
/** @typedef {import("./bindings/Role").Role} Role */
/** @typedef {import("./bindings/JournalAction").JournalAction} JournalAction */

/** @type {Record<Environment, string>} */
export const ENVIRONMENT_LABELS = {
  production: "Production",
  bac_a_sable: "Bac à sable",
  simulateur: "Simulateur (démonstration)",
};

/** @type {Record<SecretKind, string>} */
export const SECRET_KIND_LABELS = {
  hubee_client_id: "Identifiant client Hubee",
  hubee_client_secret: "Clé secrète Hubee",
  particulier_token: "Jeton API Particulier",
};

/**
 * The order in which the secrets are listed, whatever order the backend uses,
 * so that the screen looks the same from one visit to the next.
 * @type {SecretKind[]}
 */
export const SECRET_KINDS = ["hubee_client_id", "hubee_client_secret", "particulier_token"];

/** @type {Record<BackupKind, string>} */
export const BACKUP_KIND_LABELS = {
  auto: "Automatique",
  safety: "Avant une opération",
  manual: "Manuelle",
};

/** @type {Record<Role, string>} */
export const ROLE_LABELS = {
  agent: "Agent",
  administrateur: "Administrateur",
};

/**
 * The actions of the access journal, in the order the filter lists them.
 * @type {Record<JournalAction, string>}
 */
export const JOURNAL_ACTION_LABELS = {
  consultation_qf: "Consultation du QF (API Particulier)",
  dossier_ouvert: "Dossier ouvert",
  famille_consultee: "Dossier famille consulté",
  impression: "Impression",
  export: "Export",
  jeton_enregistre: "Jeton API Particulier enregistré",
  jeton_compromis: "Jeton API Particulier déclaré compromis",
  purge: "Purge des lignes de plus de 36 mois",
  elimination: "Élimination des données arrivées au terme de leur conservation",
};

/** @param {number} n */
const pad = (n) => String(n).padStart(2, "0");

/**
 * Formats an RFC 3339 instant in the computer's local time, the way French
 * administrative documents write it: "22/11/2026 à 14:05". Built by hand rather
 * than with Intl so that the "à" and the separators never depend on the ICU data
 * shipped with the WebView.
 * @param {string} iso
 */
export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const day = `${pad(date.getDate())}/${pad(date.getMonth() + 1)}/${date.getFullYear()}`;
  return `${day} à ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * Like formatDateTime, with the seconds: "22/11/2026 à 14:05:32".
 * @param {string} iso
 */
export function formatDateTimeSeconds(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return `${formatDateTime(iso)}:${pad(date.getSeconds())}`;
}

const sizeFormat = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });

/**
 * Formats a size with the French units (octet, Ko, Mo, Go), in powers of 1024
 * like the Windows file explorer, so that the figure matches what the agent sees there.
 * @param {number} bytes
 */
export function formatSize(bytes) {
  if (bytes < 1024) {
    return `${bytes} octet${bytes > 1 ? "s" : ""}`;
  }
  const units = ["Ko", "Mo", "Go", "To"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${sizeFormat.format(value)} ${units[unit]}`;
}

/** @typedef {import("./bindings/Statut").Statut} Statut */
/** @typedef {import("./bindings/QuotientView").QuotientView} QuotientView */

/** @type {Record<Statut, string>} */
export const STATUT_LABELS = {
  nouveau: "Nouveau",
  recu: "Reçu",
  traite: "Traité",
  refuse: "Refusé",
  incomplet: "Incomplet",
  a_verifier: "À vérifier",
  cloture: "Clôturé",
};

/** The order of the status filter: the ones that need an agent first. */
/** @type {Statut[]} */
export const STATUTS = ["nouveau", "a_verifier", "incomplet", "recu", "traite", "refuse", "cloture"];

const MONTHS = [
  "janvier", "février", "mars", "avril", "mai", "juin",
  "juillet", "août", "septembre", "octobre", "novembre", "décembre",
];

/**
 * "octobre 2026", or what is known of it.
 * @param {number | null} year
 * @param {number | null} month
 */
export function formatMonth(year, month) {
  if (year === null) {
    return "période non précisée";
  }
  if (month === null || month < 1 || month > 12) {
    return String(year);
  }
  return `${MONTHS[month - 1]} ${year}`;
}

const euroFormat = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 });

/**
 * The QF as the agent reads it. A missing value is never shown as 0: a QF of 0
 * would put the family in the cheapest bracket.
 * @param {QuotientView | null} quotient
 */
export function formatQuotient(quotient) {
  if (quotient === null || quotient.valeur === null) {
    return "non transmis";
  }
  return `${euroFormat.format(quotient.valeur)} €`;
}

/**
 * "23/11/1985" from "1985-11-23"; partial dates as they come.
 * @param {string | null} iso
 */
export function formatBirthDate(iso) {
  if (iso === null) {
    return "non précisée";
  }
  const [year, month, day] = iso.split("-");
  if (!day || !month) {
    return iso;
  }
  return `${day}/${month}/${year}`;
}
