// The only module that talks to the Rust backend. Every other module calls the
// functions exported here, so that the command names, the argument shapes and
// the error normalisation live in one place and match src-tauri one to one.

/** @typedef {import("./bindings/IpcError").IpcError} IpcErrorData */
/** @typedef {IpcErrorData["code"]} Code */
/** @typedef {import("./bindings/AppStatus").AppStatus} AppStatus */
/** @typedef {import("./bindings/About").About} About */
/** @typedef {import("./bindings/Agent").Agent} Agent */
/** @typedef {import("./bindings/NewAgent").NewAgent} NewAgent */
/** @typedef {import("./bindings/Commune").Commune} Commune */
/** @typedef {import("./bindings/NewCommune").NewCommune} NewCommune */
/** @typedef {import("./bindings/SecretKind").SecretKind} SecretKind */
/** @typedef {import("./bindings/SecretStatus").SecretStatus} SecretStatus */
/** @typedef {import("./bindings/VaultStatus").VaultStatus} VaultStatus */
/** @typedef {import("./bindings/BackupInfo").BackupInfo} BackupInfo */
/** @typedef {import("./bindings/Settings").Settings} Settings */
/** @typedef {import("./bindings/Retention").Retention} Retention */
/** @typedef {import("./bindings/NetworkView").NetworkView} NetworkView */
/** @typedef {import("./bindings/NetworkChange").NetworkChange} NetworkChange */
/** @typedef {import("./bindings/ConnectionReport").ConnectionReport} ConnectionReport */
/** @typedef {import("./bindings/PurgeReport").PurgeReport} PurgeReport */
/** @typedef {import("./bindings/RgpdSettings").RgpdSettings} RgpdSettings */
/** @typedef {import("./bindings/RgpdView").RgpdView} RgpdView */
/** @typedef {import("./bindings/RgpdCheck").RgpdCheck} RgpdCheck */
/** @typedef {import("./bindings/RgpdDocument").RgpdDocument} RgpdDocument */
/** @typedef {import("./bindings/RgpdFormat").RgpdFormat} RgpdFormat */
/** @typedef {import("./bindings/CompromiseReport").CompromiseReport} CompromiseReport */
/** @typedef {import("./bindings/FirstRun").FirstRun} FirstRun */
/** @typedef {import("./bindings/InboxQuery").InboxQuery} InboxQuery */
/** @typedef {import("./bindings/InboxPage").InboxPage} InboxPage */
/** @typedef {import("./bindings/DossierDetail").DossierDetail} DossierDetail */
/** @typedef {import("./bindings/SyncState").SyncState} SyncState */
/** @typedef {import("./bindings/CommuneOfBirth").CommuneOfBirth} CommuneOfBirth */
/** @typedef {import("./bindings/CountryOfBirth").CountryOfBirth} CountryOfBirth */
/** @typedef {import("./bindings/CounterRequest").CounterRequest} CounterRequest */
/** @typedef {import("./bindings/CounterResult").CounterResult} CounterResult */
/** @typedef {import("./bindings/TokenBanner").TokenBanner} TokenBanner */
/** @typedef {import("./bindings/JournalFilter").JournalFilter} JournalFilter */
/** @typedef {import("./bindings/JournalPage").JournalPage} JournalPage */
/** @typedef {import("./bindings/JournalVerification").JournalVerification} JournalVerification */
/** @typedef {import("./bindings/JournalExport").JournalExport} JournalExport */
/** @typedef {import("./bindings/PosterFormat").PosterFormat} PosterFormat */
/** @typedef {import("./bindings/PosterSettings").PosterSettings} PosterSettings */
/** @typedef {import("./bindings/PosterStudio").PosterStudio} PosterStudio */
/** @typedef {import("./bindings/PosterPreview").PosterPreview} PosterPreview */
/** @typedef {import("./bindings/ListingStatus").ListingStatus} ListingStatus */
/** @typedef {import("./bindings/Printed").Printed} Printed */
/** @typedef {import("./bindings/QrKind").QrKind} QrKind */
/** @typedef {import("./bindings/KitTexts").KitTexts} KitTexts */
/** @typedef {import("./bindings/LogoInfo").LogoInfo} LogoInfo */
/** @typedef {import("./bindings/IdentityInput").IdentityInput} IdentityInput */
/** @typedef {import("./bindings/FamilySummary").FamilySummary} FamilySummary */
/** @typedef {import("./bindings/FamilyView").FamilyView} FamilyView */
/** @typedef {import("./bindings/FamilyChange").FamilyChange} FamilyChange */
/** @typedef {import("./bindings/PaperAttestation").PaperAttestation} PaperAttestation */
/** @typedef {import("./bindings/PaperProblem").PaperProblem} PaperProblem */
/** @typedef {import("./bindings/PendingDossier").PendingDossier} PendingDossier */
/** @typedef {import("./bindings/CounterDestination").CounterDestination} CounterDestination */
/** @typedef {import("./bindings/CounterSaved").CounterSaved} CounterSaved */
/** @typedef {import("./bindings/LetterSelection").LetterSelection} LetterSelection */
/** @typedef {import("./bindings/LetterRecipient").LetterRecipient} LetterRecipient */
/** @typedef {import("./bindings/LettersPreview").LettersPreview} LettersPreview */
/** @typedef {import("./bindings/TariffGrid").TariffGrid} TariffGrid */
/** @typedef {import("./bindings/TariffProblem").TariffProblem} TariffProblem */
/** @typedef {import("./bindings/FamilyTariff").FamilyTariff} FamilyTariff */
/** @typedef {import("./bindings/TariffDistribution").TariffDistribution} TariffDistribution */
/** @typedef {import("./bindings/RefreshView").RefreshView} RefreshView */
/** @typedef {import("./bindings/RefreshPreview").RefreshPreview} RefreshPreview */
/** @typedef {import("./bindings/RefreshSchedule").RefreshSchedule} RefreshSchedule */
/** @typedef {import("./bindings/ExportPreset").ExportPreset} ExportPreset */
/** @typedef {import("./bindings/ExportColumn").ExportColumn} ExportColumn */
/** @typedef {import("./bindings/FamiliesExport").FamiliesExport} FamiliesExport */
/** @typedef {import("./bindings/ExportColumnChoice").ExportColumnChoice} ExportColumnChoice */

const UNEXPECTED_MESSAGE =
  "Une erreur inattendue est survenue. Réessayez ; si le problème continue, notez l'heure et contactez le support.";

/**
 * A failed backend call. The UI branches on `code` only; `message` is already
 * written in French for the agent and is shown as is.
 */
export class IpcError extends Error {
  /**
   * @param {Code} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "IpcError";
    /** @type {Code} */
    this.code = code;
  }
}

/**
 * Turns whatever a rejected invoke carries into an IpcError. The backend always
 * rejects with `{code, message}`; anything else (a missing command, a panic, the
 * page opened outside Tauri) is a bug, so the agent gets a generic message and
 * the original value goes to the console for whoever investigates.
 * @param {unknown} reason
 * @returns {IpcError}
 */
export function toIpcError(reason) {
  if (reason instanceof IpcError) {
    return reason;
  }
  if (
    typeof reason === "object" &&
    reason !== null &&
    typeof (/** @type {any} */ (reason).code) === "string" &&
    typeof (/** @type {any} */ (reason).message) === "string"
  ) {
    const data = /** @type {IpcErrorData} */ (reason);
    return new IpcError(data.code, data.message);
  }
  console.error("Unexpected IPC rejection", reason);
  return new IpcError("internal", UNEXPECTED_MESSAGE);
}

/**
 * @template T
 * @param {string} command
 * @param {Record<string, unknown>} [args]
 * @returns {Promise<T>}
 */
async function call(command, args) {
  try {
    return await window.__TAURI__.core.invoke(command, args);
  } catch (reason) {
    throw toIpcError(reason);
  }
}

/** @returns {Promise<AppStatus>} */
export const appStatus = () => call("app_status");

/**
 * « À propos »: version, data and log locations, and the text for support
 * (never personal data or secrets). Answers without a session.
 * @returns {Promise<About>}
 */
export const about = () => call("about");

/**
 * Tells the backend the first screen is drawn (the start-up time goes to its log).
 * @returns {Promise<null>}
 */
export const windowPainted = () => call("window_painted");

/**
 * @param {FirstRun} input
 * @returns {Promise<AppStatus>}
 */
export const firstRunComplete = (input) => call("first_run_complete", { input });

/**
 * Starts the demonstration: simulators, fictitious commune and families, in a
 * database of its own; the demonstration agent's session is opened.
 * @returns {Promise<AppStatus>}
 */
export const demoStart = () => call("demo_start");

/**
 * Leaves the demonstration and goes back to the real data.
 * @returns {Promise<AppStatus>}
 */
export const demoStop = () => call("demo_stop");

/**
 * Checks a commune as typed, without saving it: the wizard checks each step
 * before moving on, so an error shows next to the fields it is about.
 * @param {NewCommune} commune
 * @returns {Promise<null>}
 */
export const communeCheck = (commune) => call("commune_check", { commune });

/**
 * Checks an agent's name and PIN as typed, without saving them.
 * @param {NewAgent} agent
 * @returns {Promise<null>}
 */
export const agentCheck = (agent) => call("agent_check", { agent });

/** @returns {Promise<Agent[]>} */
export const agentsList = () => call("agents_list");

/**
 * @param {number} agentId
 * @param {string} pin
 * @returns {Promise<AppStatus>}
 */
export const sessionOpen = (agentId, pin) => call("session_open", { agentId, pin });

/** @returns {Promise<AppStatus>} */
export const sessionLock = () => call("session_lock");

/** @returns {Promise<null>} */
export const sessionTouch = () => call("session_touch");

/** @returns {Promise<Commune[]>} */
export const communesList = () => call("communes_list");

/**
 * @param {NewCommune} commune
 * @returns {Promise<Commune>}
 */
export const communeAdd = (commune) => call("commune_add", { commune });

/**
 * @param {number} id
 * @param {NewCommune} commune
 * @returns {Promise<Commune>}
 */
export const communeUpdate = (id, commune) => call("commune_update", { id, commune });

/**
 * @param {number} id
 * @returns {Promise<null>}
 */
export const communeDelete = (id) => call("commune_delete", { id });

/**
 * @param {NewAgent} agent
 * @returns {Promise<Agent>}
 */
export const agentAdd = (agent) => call("agent_add", { agent });

/**
 * @param {number} id
 * @param {boolean} active
 * @returns {Promise<Agent>}
 */
export const agentSetActive = (id, active) => call("agent_set_active", { id, active });

/**
 * @param {number} id
 * @param {string} pin
 * @returns {Promise<Agent>}
 */
export const agentChangePin = (id, pin) => call("agent_change_pin", { id, pin });

/**
 * @param {number} communeId
 * @returns {Promise<SecretStatus[]>}
 */
export const secretsStatus = (communeId) => call("secrets_status", { communeId });

/**
 * @param {number} communeId
 * @param {SecretKind} kind
 * @param {string} value
 * @returns {Promise<SecretStatus>}
 */
export const secretSet = (communeId, kind, value) => call("secret_set", { communeId, kind, value });

/**
 * @param {number} communeId
 * @param {SecretKind} kind
 * @returns {Promise<SecretStatus>}
 */
export const secretDelete = (communeId, kind) => call("secret_delete", { communeId, kind });

/**
 * @param {string} passphrase
 * @returns {Promise<VaultStatus>}
 */
export const vaultUnlock = (passphrase) => call("vault_unlock", { passphrase });

/** @returns {Promise<BackupInfo[]>} */
export const backupsList = () => call("backups_list");

/** @returns {Promise<BackupInfo>} */
export const backupCreate = () => call("backup_create");

/**
 * @param {string} name
 * @returns {Promise<AppStatus>}
 */
export const backupRestore = (name) => call("backup_restore", { name });

/** @returns {Promise<Settings>} */
export const settingsGet = () => call("settings_get");

/**
 * @param {Settings} settings
 * @returns {Promise<Settings>}
 */
export const settingsUpdate = (settings) => call("settings_update", { settings });

/**
 * The network settings (proxy mode and fields) and whether a proxy password is
 * stored; never the password itself.
 * @returns {Promise<NetworkView>}
 */
export const networkGet = () => call("network_get");

/**
 * Saves the network settings (administrators); refused with the French reason
 * of each field. A password travels only from this form to the vault.
 * @param {NetworkChange} change
 * @returns {Promise<NetworkView>}
 */
export const networkSave = (change) => call("network_save", { change });

/**
 * "Tester la connexion": Hubee's token endpoint and API Particulier's ping for
 * the commune's environment, through the saved network, one line each.
 * @param {number} communeId
 * @returns {Promise<ConnectionReport>}
 */
export const networkCheck = (communeId) => call("network_check", { communeId });

/**
 * The retention limits of the installation (the defaults until an administrator saves them).
 * @returns {Promise<Retention>}
 */
export const retentionGet = () => call("retention_get");

/**
 * Saves the retention limits (administrators); refused with the French reason of each field.
 * @param {Retention} retention
 * @returns {Promise<Retention>}
 */
export const retentionSave = (retention) => call("retention_save", { retention });

/**
 * "Simuler la purge": what the purge would remove today, nothing removed.
 * @returns {Promise<PurgeReport>}
 */
export const retentionPreview = () => call("retention_preview");

/**
 * The purge (administrators): a safety backup, then what the simulation announced.
 * @returns {Promise<PurgeReport>}
 */
export const retentionPurge = () => call("retention_purge");

/**
 * The purges done, newest first, with what each removed per commune.
 * @returns {Promise<PurgeReport[]>}
 */
export const purgesList = () => call("purges_list");

/**
 * The commune's RGPD settings (the defaults until an administrator saves them), with what is
 * missing before the documents can be made and the warnings (the DPO is the mayor).
 * @param {number} communeId
 * @returns {Promise<RgpdView>}
 */
export const rgpdSettingsGet = (communeId) => call("rgpd_settings_get", { communeId });

/**
 * Every field's problem and the warnings of the settings being typed; nothing is stored.
 * @param {RgpdSettings} settings
 * @returns {Promise<RgpdCheck>}
 */
export const rgpdSettingsCheck = (settings) => call("rgpd_settings_check", { settings });

/**
 * Saves the commune's RGPD settings (administrators); refused with every field's reason.
 * @param {number} communeId
 * @param {RgpdSettings} settings
 * @returns {Promise<RgpdView>}
 */
export const rgpdSettingsSave = (communeId, settings) => call("rgpd_settings_save", { communeId, settings });

/**
 * Writes an RGPD document (register entry, notice, bordereau of a purge) and opens it in the
 * system's viewer or text editor; journaled.
 * @param {RgpdDocument} document
 * @param {RgpdFormat} format
 * @returns {Promise<Printed>}
 */
export const rgpdDocumentOpen = (document, format) => call("rgpd_document_open", { document, format });

/**
 * Writes an RGPD document where the agent chooses (system dialog); null when cancelled.
 * @param {RgpdDocument} document
 * @param {RgpdFormat} format
 * @returns {Promise<Printed | null>}
 */
export const rgpdDocumentSaveAs = (document, format) => call("rgpd_document_save_as", { document, format });

/**
 * The dossiers of a commune matching a search, a family's dossiers together.
 * @param {InboxQuery} query
 * @returns {Promise<InboxPage>}
 */
export const inboxSearch = (query) => call("inbox_search", { query });

/**
 * How many dossiers no agent has opened yet, all communes together.
 * @returns {Promise<number>}
 */
export const inboxNewCount = () => call("inbox_new_count");

/**
 * Opens a dossier: it becomes "reçu" and the access is written to the journal.
 * @param {number} id
 * @returns {Promise<DossierDetail>}
 */
export const dossierOpen = (id) => call("dossier_open", { id });

/**
 * Opens one of the dossier's files in the computer's own viewer.
 * @param {number} id the file's id
 * @returns {Promise<null>}
 */
export const dossierFileOpen = (id) => call("dossier_file_open", { id });

/**
 * Tells Hubee the dossier is processed ("traité"), or refused with a message.
 * Hubee cannot undo either.
 * @param {number} id
 * @param {string | null} refus the refusal message, or null for "traité"
 * @returns {Promise<DossierDetail>}
 */
export const dossierDecide = (id, refus) => call("dossier_decide", { id, refus });

/** @returns {Promise<SyncState[]>} */
export const syncStates = () => call("sync_states");

/**
 * "Relever maintenant": a Hubee pass for every configured commune.
 * @returns {Promise<null>}
 */
export const syncNow = () => call("sync_now");

/**
 * Calls `handler` with each change of a commune's relevé (start, progress, end).
 * Returns the function that stops listening.
 * @param {(state: SyncState) => void} handler
 * @returns {Promise<() => void>}
 */
export function onSyncState(handler) {
  return window.__TAURI__.event.listen("sync-state", (event) => handler(/** @type {SyncState} */ (event.payload)));
}

/**
 * The commune's QF refresh: its schedule, whether a run is going on and how far,
 * and the latest run's counts.
 * @param {number} communeId
 * @returns {Promise<RefreshView>}
 */
export const refreshState = (communeId) => call("refresh_state", { communeId });

/**
 * "Actualiser maintenant" (or "Reprendre"): the run goes on in the background,
 * its progress arrives through `onRefreshState`.
 * @param {number} communeId
 * @returns {Promise<null>}
 */
export const refreshNow = (communeId) => call("refresh_now", { communeId });

/**
 * What applying a run would change: "N familles changent de QF", the families
 * that change and those to review.
 * @param {number} runId
 * @returns {Promise<RefreshPreview>}
 */
export const refreshPreview = (runId) => call("refresh_preview", { runId });

/**
 * "Appliquer": writes the changed QFs into the family file.
 * @param {number} runId
 * @returns {Promise<number>} how many QFs were written
 */
export const refreshApply = (runId) => call("refresh_apply", { runId });

/**
 * Saves the commune's refresh schedule (administrators).
 * @param {number} communeId
 * @param {RefreshSchedule} schedule
 * @returns {Promise<null>}
 */
export const refreshScheduleSet = (communeId, schedule) => call("refresh_schedule_set", { communeId, schedule });

/**
 * Calls `handler` with each change of a commune's refresh (start, progress, end).
 * @param {(view: RefreshView) => void} handler
 * @returns {Promise<() => void>} stops listening
 */
export function onRefreshState(handler) {
  return window.__TAURI__.event.listen("refresh-state", (event) => handler(/** @type {RefreshView} */ (event.payload)));
}

/**
 * Calls `handler` whenever the token guardian has learnt something new about a
 * commune's API Particulier token (its banners may have changed).
 * @param {(communeId: number) => void} handler
 * @returns {Promise<() => void>} stops listening
 */
export function onTokenChecked(handler) {
  return window.__TAURI__.event.listen("token-checked", (event) => handler(/** @type {number} */ (event.payload)));
}

/**
 * One page of the access journal, newest first, with the agent names to
 * filter on. Set `before_id` to the last row's id for the next page.
 * @param {JournalFilter} filter
 * @returns {Promise<JournalPage>}
 */
export const journalList = (filter) => call("journal_list", { filter });

/**
 * Recomputes the journal's hash chain.
 * @returns {Promise<JournalVerification>}
 */
export const journalVerify = () => call("journal_verify");

/**
 * Writes the rows matching the filter as CSV in the user's Documents folder
 * (administrators only); the export is journaled itself.
 * @param {JournalFilter} filter
 * @returns {Promise<JournalExport>}
 */
export const journalExport = (filter) => call("journal_export", { filter });

/**
 * French communes of birth matching what the agent typed (name or INSEE code),
 * former communes included; from the lists shipped with the application.
 * @param {string} query
 * @returns {Promise<CommuneOfBirth[]>}
 */
export const birthCommunes = (query) => call("birth_communes", { query });

/**
 * Foreign countries of birth matching what the agent typed.
 * @param {string} query
 * @returns {Promise<CountryOfBirth[]>}
 */
export const birthCountries = (query) => call("birth_countries", { query });

/**
 * Looks a family's QF up at the counter (API Particulier); the call is written
 * to the access journal whatever its outcome.
 * @param {CounterRequest} request
 * @returns {Promise<CounterResult>}
 */
export const counterLookup = (request) => call("counter_lookup", { request });

/**
 * The API Particulier token warnings (expiry in 90, 30, 7 days, or expired),
 * most urgent first.
 * @returns {Promise<TokenBanner[]>}
 */
export const tokenBanners = () => call("token_banners");

/**
 * "Jeton compromis": removes the commune's API Particulier token from this PC
 * (journaled) and opens the pre-filled e-mail to API Particulier's support.
 * @param {number} communeId
 * @returns {Promise<CompromiseReport>}
 */
export const particulierTokenCompromised = (communeId) => call("particulier_token_compromised", { communeId });

/**
 * The commune's poster settings and logo, for the Affiche screen.
 * @param {number} communeId
 * @returns {Promise<PosterStudio>}
 */
export const posterStudio = (communeId) => call("poster_studio", { communeId });

/**
 * Whether the national form is open for the commune (read from its public list).
 * @param {number} communeId
 * @returns {Promise<ListingStatus>}
 */
export const posterListing = (communeId) => call("poster_listing", { communeId });

/**
 * Remembers the settings and returns the poster's PDF drawn as an image.
 * @param {number} communeId
 * @param {PosterFormat} format
 * @param {PosterSettings} settings
 * @returns {Promise<PosterPreview>}
 */
export const posterPreview = (communeId, format, settings) => call("poster_preview", { communeId, format, settings });

/**
 * Opens the poster's PDF in the system viewer (to print it); journaled.
 * @param {number} communeId
 * @param {PosterFormat} format
 * @param {PosterSettings} settings
 * @returns {Promise<Printed>}
 */
export const posterOpen = (communeId, format, settings) => call("poster_open", { communeId, format, settings });

/**
 * Saves the poster's PDF in the Documents folder; journaled.
 * @param {number} communeId
 * @param {PosterFormat} format
 * @param {PosterSettings} settings
 * @returns {Promise<Printed>}
 */
export const posterSave = (communeId, format, settings) => call("poster_save", { communeId, format, settings });

/**
 * "Enregistrer sous…": asks where in the system's save dialog, then saves the
 * poster's PDF there; journaled. Null when the agent cancelled.
 * @param {number} communeId
 * @param {PosterFormat} format
 * @param {PosterSettings} settings
 * @returns {Promise<Printed | null>}
 */
export const posterSaveAs = (communeId, format, settings) => call("poster_save_as", { communeId, format, settings });

/**
 * Saves the QR code alone (PNG or SVG) in the Documents folder; journaled.
 * @param {number} communeId
 * @param {QrKind} kind
 * @returns {Promise<Printed>}
 */
export const posterQrSave = (communeId, kind) => call("poster_qr_save", { communeId, kind });

/**
 * The ready-to-paste texts for the website and the e-mail to families.
 * @param {number} communeId
 * @param {PosterSettings} settings
 * @returns {Promise<KitTexts>}
 */
export const posterTexts = (communeId, settings) => call("poster_texts", { communeId, settings });

/**
 * Keeps the chosen logo (the file in base64) or removes it (null).
 * @param {number} communeId
 * @param {string | null} logo
 * @returns {Promise<LogoInfo | null>}
 */
export const posterLogoSet = (communeId, logo) => call("poster_logo_set", { communeId, logo });

/**
 * The commune's families matching what the agent typed: names (accents and
 * case ignored, the beginnings of words suffice), a dossier's reference or the
 * family's code.
 * @param {number} communeId
 * @param {string} query
 * @returns {Promise<FamilySummary[]>}
 */
export const familySearch = (communeId, query) => call("family_search", { communeId, query });

/**
 * Opens a family; the access is written to the journal.
 * @param {number} id
 * @returns {Promise<FamilyView>}
 */
export const familyOpen = (id) => call("family_open", { id });

/**
 * Changes an open family (notes, opt-out, paper attestation, merge) and gives
 * it back as it now is.
 * @param {number} id
 * @param {FamilyChange} change
 * @returns {Promise<FamilyView>}
 */
export const familyChange = (id, change) => call("family_change", { id, change });

/**
 * Every problem of a paper attestation, one per field, in French.
 * @param {PaperAttestation} paper
 * @returns {Promise<PaperProblem[]>}
 */
export const familyPaperCheck = (paper) => call("family_paper_check", { paper });

/**
 * The dossiers whose family is doubtful, with their candidate families.
 * @param {number} communeId
 * @returns {Promise<PendingDossier[]>}
 */
export const familiesPending = (communeId) => call("families_pending", { communeId });

/**
 * "Rattacher à…" a family, or "Créer une nouvelle famille" (null).
 * @param {number} dossierId
 * @param {number | null} familyId
 * @returns {Promise<number>} the family's id
 */
export const familySettle = (dossierId, familyId) => call("family_settle", { dossierId, familyId });

/**
 * "Enregistrer dans le dossier famille": the counter card into the family file.
 * @param {number} communeId
 * @param {IdentityInput} identite the identity typed at the counter
 * @param {CounterResult} result the card the lookup gave
 * @param {CounterDestination} destination
 * @returns {Promise<CounterSaved>}
 */
export const familySaveCounter = (communeId, identite, result, destination) =>
  call("family_save_counter", { communeId, identite, result, destination });

/**
 * The families a mailing of personal letters would go to.
 * @param {number} communeId
 * @param {LetterSelection} selection
 * @returns {Promise<LetterRecipient[]>}
 */
export const lettersRecipients = (communeId, selection) => call("letters_recipients", { communeId, selection });

/**
 * The first letter of the mailing, drawn from the PDF, and how many letters it makes.
 * @param {number} communeId
 * @param {LetterSelection} selection
 * @returns {Promise<LettersPreview>}
 */
export const lettersPreview = (communeId, selection) => call("letters_preview", { communeId, selection });

/**
 * Writes the mailing and opens it in the system's PDF viewer to print it; journaled.
 * @param {number} communeId
 * @param {LetterSelection} selection
 * @returns {Promise<Printed>}
 */
export const lettersOpen = (communeId, selection) => call("letters_open", { communeId, selection });

/**
 * Writes the mailing where the agent chooses (system dialog); null when cancelled. Journaled.
 * @param {number} communeId
 * @param {LetterSelection} selection
 * @returns {Promise<Printed | null>}
 */
export const lettersSaveAs = (communeId, selection) => call("letters_save_as", { communeId, selection });

/**
 * Writes the family's "Attestation de prise en compte du quotient familial" and opens it in the
 * system's PDF viewer to print it; journaled under the family's code.
 * @param {number} familyId
 * @returns {Promise<Printed>}
 */
export const familyAttestationOpen = (familyId) => call("family_attestation_open", { familyId });

/**
 * Writes the family's attestation where the agent chooses (system dialog); null when
 * cancelled. Journaled.
 * @param {number} familyId
 * @returns {Promise<Printed | null>}
 */
export const familyAttestationSaveAs = (familyId) => call("family_attestation_save_as", { familyId });

/**
 * The columns the agent may pick for the families' export, with their headers, in the
 * default order.
 * @returns {Promise<ExportColumnChoice[]>}
 */
export const familiesExportColumns = () => call("families_export_columns");

/**
 * "Exporter": the commune's families as CSV for the billing tool in the Documents folder,
 * with the chosen columns in their order; journaled with the number of families. Show the
 * result's `warning` (personal data) to the agent.
 * @param {number} communeId
 * @param {ExportPreset} preset
 * @param {ExportColumn[]} columns
 * @returns {Promise<FamiliesExport>}
 */
export const familiesExport = (communeId, preset, columns) => call("families_export", { communeId, preset, columns });

/**
 * "Exporter sous…": the same where the agent chooses (system dialog); null when cancelled,
 * and nothing is written nor journaled then.
 * @param {number} communeId
 * @param {ExportPreset} preset
 * @param {ExportColumn[]} columns
 * @returns {Promise<FamiliesExport | null>}
 */
export const familiesExportAs = (communeId, preset, columns) => call("families_export_as", { communeId, preset, columns });

/**
 * The commune's tariff grids, by service then period.
 * @param {number} communeId
 * @returns {Promise<TariffGrid[]>}
 */
export const tariffGrids = (communeId) => call("tariff_grids", { communeId });

/**
 * Every problem of a grid being typed, errors and warnings (gaps to confirm), in French.
 * @param {TariffGrid} grid
 * @returns {Promise<TariffProblem[]>}
 */
export const tariffGridCheck = (grid) => call("tariff_grid_check", { grid });

/**
 * Saves a new grid (`id` null) or replaces one (administrators); returns its id.
 * @param {number} communeId
 * @param {TariffGrid} grid
 * @returns {Promise<number>}
 */
export const tariffGridSave = (communeId, grid) => call("tariff_grid_save", { communeId, grid });

/**
 * Deletes a grid after a safety backup (administrators).
 * @param {number} communeId
 * @param {number} id
 * @returns {Promise<null>}
 */
export const tariffGridDelete = (communeId, id) => call("tariff_grid_delete", { communeId, id });

/**
 * A family's bracket and price for every service valid today, from its latest QF.
 * @param {number} familyId
 * @returns {Promise<FamilyTariff[]>}
 */
export const familyTariffs = (familyId) => call("family_tariffs", { familyId });

/**
 * A QF's bracket and price for every service valid today, before it is in a family file (a
 * dossier's QF, the counter's answer); null: unknown, the default tariffs.
 * @param {number} communeId
 * @param {number | null} qf
 * @returns {Promise<FamilyTariff[]>}
 */
export const qfTariffs = (communeId, qf) => call("qf_tariffs", { communeId, qf });

/**
 * How many families fall in each bracket of a service's grid valid today (no names).
 * @param {number} communeId
 * @param {string} service
 * @returns {Promise<TariffDistribution>}
 */
export const tariffDistribution = (communeId, service) => call("tariff_distribution", { communeId, service });
