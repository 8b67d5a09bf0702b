// Test-only stand-in for the Tauri backend, to look at the UI in a plain
// browser (headless Chromium) without building the app. It is injected by
// serve.py before ui/app.js and is never shipped: ui/ contains no mock.
// The scenario comes from the query string, e.g. ?scenario=shell.
(() => {
  const params = new URLSearchParams(location.search);
  const scenario = params.get("scenario") || "first_run";
  const now = () => new Date().toISOString();
  const fail = (code, message) => Promise.reject({ code, message });
  // What the fake purge finds: two families' data the first time, nothing once purged.
  const purgeReport = (dryRun) => {
    const verb = dryRun ? "seront supprimés" : "ont été supprimés";
    if (db.purgeDone) {
      return { id: null, dry_run: dryRun, at: now(), agent: "", limits: db.retention, communes: [], journal_rows: 0,
        journal_before: "2023-11-23T10:00:00Z", export_files: [], backup_name: null,
        summary: "Rien à supprimer : aucune donnée n'a dépassé sa durée de conservation." };
    }
    return {
      id: null, dry_run: dryRun, at: now(), agent: "", limits: db.retention,
      communes: [{ commune_id: 1, commune_siret: "21040107100019", commune_name: "Majastres", families: 2, identities: 1,
        qf_entries: 5, refresh_runs: 1, dossiers: 3, dossier_files: 4, kept_referenced: 0, removed_from: "2023-09-01", removed_to: "2026-10-20",
        summary: `Majastres : 2 familles, 3 dossiers, 5 entrées de QF, 1 identité de référence, les fichiers Hubee de 4 dossiers clos, 1 actualisation terminée ${verb}.` }],
      journal_rows: 0, journal_before: "2023-11-23T10:00:00Z", export_files: ["familles-2026-11-02-0930.csv"], backup_name: null,
      summary: `2 familles, 3 dossiers, 5 entrées de QF, 1 identité de référence, les fichiers Hubee de 4 dossiers clos, 1 actualisation terminée, 1 fichier d'export ${verb}.`,
    };
  };

  const db = {
    communes: [],
    agents: [],
    secrets: {},
    backups: [
      { name: "guichet-qf-2026-11-20T18-00-00Z-auto.sqlite", created_at: "2026-11-20T18:00:00Z", kind: "auto", size_bytes: 1_245_184 },
      { name: "guichet-qf-2026-11-21T09-12-00Z-safety.sqlite", created_at: "2026-11-21T09:12:00Z", kind: "safety", size_bytes: 1_249_280 },
    ],
    settings: { idle_lock_minutes: 15, sync_interval_minutes: 10, particulier_requests_per_second: 10, close_dossiers_in_family: false },
    retention: { qf_history_months: 24, identity_days: 0, family_months: 12, dossier_files_days: 30, export_days: 7, journal_months: 36, journal_justification: "" },
    purges: [],
    purgeDone: false,
    network: { mode: "systeme", proxy_host: "", proxy_port: "", proxy_username: "", pac_url: "" },
    proxyPasswordAt: null,
    journal: [],
    agent: null,
    vaultUnlocked: params.get("vault") !== "locked",
    state: "ready",
    keystore: params.get("keystore") === "1",
  };
  const pins = {};
  let nextId = 1;
  const addAgent = (name, role, pin) => {
    const agent = { id: nextId++, name, role, active: true };
    db.agents.push(agent);
    pins[agent.id] = pin;
    return agent;
  };
  const addCommune = (c) => {
    const commune = { id: nextId++, created_at: "2026-11-22T13:05:00Z", ...c };
    db.communes.push(commune);
    db.secrets[commune.id] = { hubee_client_id: null, hubee_client_secret: null, particulier_token: null };
    return commune;
  };

  if (scenario === "first_run") {
    db.state = "first_run";
  } else {
    addCommune({ siret: "21040107100019", name: "Majastres", cog: "04107", environment: "production" });
    if (scenario !== "one_commune") {
      addCommune({ siret: "26040107100015", name: "CCAS de Majastres", cog: "04107", environment: "bac_a_sable" });
    }
    db.secrets[1].particulier_token = "2026-11-21T10:30:00Z";
    const admin = addAgent("Claire Martin", "administrateur", "1234");
    const agent = addAgent("Paul Durand", "agent", "5678");
    addAgent("Ancien agent", "agent", "0000").active = false;
    if (scenario === "shell" || scenario === "one_commune") db.agent = admin;
    if (scenario === "shell_agent") db.agent = agent;
    if (scenario === "store_unavailable") db.state = "store_unavailable";
  }

  const status = () => ({
    state: db.state,
    store_error: db.state === "store_unavailable"
      ? { code: "database_corrupted", message: "Le fichier de la base de données est endommagé. Restaurez une sauvegarde." }
      : null,
    vault: { source: db.keystore ? "keystore" : "passphrase", unlocked: db.vaultUnlocked, keystore_available: db.keystore },
    agent: db.agent,
    idle_lock_minutes: db.settings.idle_lock_minutes,
    data_dir: "C:\\Users\\mairie\\AppData\\Roaming\\Guichet QF",
  });
  const needAgent = () => (db.agent ? null : { code: "session_locked", message: "La session est verrouillée." });
  const needAdmin = () =>
    needAgent() ?? (db.agent.role === "administrateur" ? null : { code: "forbidden", message: "Réservé à un administrateur." });
  const checkCommune = (c) => {
    if (!/^\d{14}$/.test(c.siret)) return "Le SIRET doit compter 14 chiffres.";
    if (c.siret.endsWith("18")) return "Le SIRET 21040107100018 n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez les 14 chiffres.";
    if (!/^(\d{5}|2[AB]\d{3})$/.test(c.cog)) return "Le code officiel géographique doit compter 5 caractères.";
    return null;
  };
  const secretList = (id) =>
    Object.entries(db.secrets[id]).map(([kind, configured_at]) => ({ kind, configured_at }));

  const commands = {
    app_status: () => status(),
    about: () => ({
      version: "0.1.0",
      system: "linux x86_64",
      webview: "WebKitGTK 2.50.6",
      data_dir: "/home/agent/.local/share/guichet-qf",
      database_file: "/home/agent/.local/share/guichet-qf/guichet-qf.sqlite3",
      log_dir: "/home/agent/.local/share/guichet-qf/logs",
      log_file: "/home/agent/.local/share/guichet-qf/logs/guichet-qf.2026-11-23.log",
      support_text:
        "Guichet QF 0.1.0\nSystème : linux x86_64\nMoteur d'affichage : WebKitGTK 2.50.6\n" +
        "Dossier des données : ~/.local/share/guichet-qf\n" +
        "Journaux techniques : ~/.local/share/guichet-qf/logs (dernier : guichet-qf.2026-11-23.log)\n" +
        "Mode démonstration : non\nBase de données : 1,2 Mo, schéma 10 (version attendue 10)\n" +
        "Coffre des secrets : clé dans le trousseau du système\nRéseau : proxy des réglages du système\n" +
        "Communes (1) :\n- Majastres (SIRET 21040107100019), production ; identifiants Hubee : oui ; jeton API Particulier : oui\n",
    }),
    first_run_complete: ({ input }) => {
      const problem = checkCommune(input.commune);
      if (problem) return fail("validation", problem);
      if (!/^\d{4,8}$/.test(input.pin)) return fail("validation", "Le code PIN doit compter de 4 à 8 chiffres.");
      if (!db.keystore && (input.passphrase ?? "").length < 10)
        return fail("validation", "La phrase de protection doit compter au moins 10 caractères.");
      addCommune(input.commune);
      db.agent = addAgent(input.agent_name, "administrateur", input.pin);
      db.state = "ready";
      return status();
    },
    // The wizard checks each step before moving on, with the same rules.
    commune_check: ({ commune }) => {
      const problem = checkCommune(commune);
      return problem ? fail("validation", problem) : null;
    },
    agent_check: ({ agent }) => (/^\d{4,8}$/.test(agent.pin) ? null : fail("validation", "Le code PIN doit compter de 4 à 8 chiffres.")),
    agents_list: () => db.agents,
    session_open: ({ agentId, pin }) => {
      if (pins[agentId] !== pin) return fail("wrong_pin", "Code PIN incorrect. Il reste 4 essais avant un blocage de 5 minutes.");
      db.agent = db.agents.find((a) => a.id === agentId);
      return status();
    },
    session_lock: () => {
      db.agent = null;
      return status();
    },
    session_touch: () => needAgent() ? fail("session_locked", "La session est verrouillée.") : null,
    communes_list: () => db.communes,
    commune_add: ({ commune }) => {
      const denied = needAdmin();
      if (denied) return fail(denied.code, denied.message);
      const problem = checkCommune(commune);
      return problem ? fail("validation", problem) : addCommune(commune);
    },
    commune_update: ({ id, commune }) => {
      const problem = checkCommune(commune);
      if (problem) return fail("validation", problem);
      const existing = db.communes.find((c) => c.id === id);
      Object.assign(existing, commune);
      return existing;
    },
    commune_delete: ({ id }) => {
      db.communes = db.communes.filter((c) => c.id !== id);
      return null;
    },
    agent_add: ({ agent }) => addAgent(agent.name, agent.role, agent.pin),
    agent_set_active: ({ id, active }) => Object.assign(db.agents.find((a) => a.id === id), { active }),
    agent_change_pin: ({ id, pin }) => {
      pins[id] = pin;
      return db.agents.find((a) => a.id === id);
    },
    secrets_status: ({ communeId }) =>
      db.vaultUnlocked ? secretList(communeId) : fail("vault_locked", "Les secrets sont verrouillés : saisissez la phrase de protection."),
    secret_set: ({ communeId, kind }) => {
      if (!db.vaultUnlocked) return fail("vault_locked", "Les secrets sont verrouillés : saisissez la phrase de protection.");
      db.secrets[communeId][kind] = now();
      return { kind, configured_at: db.secrets[communeId][kind] };
    },
    secret_delete: ({ communeId, kind }) => {
      db.secrets[communeId][kind] = null;
      return { kind, configured_at: null };
    },
    vault_unlock: ({ passphrase }) => {
      if (passphrase !== "la cantine ouvre à midi") return fail("wrong_passphrase", "Phrase de protection incorrecte.");
      db.vaultUnlocked = true;
      return status().vault;
    },
    backups_list: () => db.backups,
    backup_create: () => {
      const backup = { name: `manual-${Date.now()}.sqlite`, created_at: now(), kind: "manual", size_bytes: 1_253_376 };
      db.backups.push(backup);
      return backup;
    },
    backup_restore: () => {
      db.agent = null;
      db.state = "ready";
      return status();
    },
    settings_get: () => db.settings,
    network_get: () => ({ settings: db.network, proxy_password_configured_at: db.proxyPasswordAt, pac_fetched_at: db.pacFetchedAt ?? null }),
    network_save: ({ change }) => {
      if (db.agent?.role !== "administrateur") return fail("forbidden", "Cette action est réservée aux administrateurs.");
      const s = change.settings;
      if (s.mode === "manuel") {
        const problems = [];
        if (s.proxy_host.trim() === "") problems.push("Adresse du proxy : saisissez le nom ou l'adresse IP du proxy (exemple : proxy.mairie.local ou 10.0.0.1).");
        else if (/[:/]/.test(s.proxy_host)) problems.push(`Adresse du proxy : saisissez seulement le nom, sans « http:// », sans chemin et sans port (le port a son propre champ) ; « ${s.proxy_host} » ne convient pas.`);
        const port = Number(s.proxy_port);
        if (!/^\d+$/.test(s.proxy_port.trim()) || port < 1 || port > 65535) problems.push("Port du proxy : un nombre entre 1 et 65 535 (souvent 3128 ou 8080).");
        if (problems.length) return fail("validation", problems.join(" "));
      }
      if (s.mode === "pac" && !/^https?:\/\/[^/]+/.test(s.pac_url.trim()))
        return fail("validation", "Adresse du fichier PAC : saisissez l'adresse donnée par le service informatique (exemple : http://proxy.mairie.local/proxy.pac).");
      if (change.proxy_password && s.proxy_username === "")
        return fail("validation", "Identifiant du proxy : saisissez l'identifiant qui va avec le mot de passe.");
      if (change.forget_proxy_password) db.proxyPasswordAt = null;
      if (change.proxy_password) db.proxyPasswordAt = now();
      db.network = { ...s };
      db.pacFetchedAt = s.mode === "pac" ? now() : null;
      return { settings: db.network, proxy_password_configured_at: db.proxyPasswordAt, pac_fetched_at: db.pacFetchedAt };
    },
    network_check: ({ communeId }) => {
      const commune = db.communes.find((c) => c.id === communeId);
      const s = db.network;
      const route = s.mode === "manuel" ? `proxy ${s.proxy_host}:${s.proxy_port}` : s.mode === "aucun" ? "sans proxy (connexion directe)" : "réglages du système";
      const viaProxy = s.mode === "manuel";
      const lines = [
        viaProxy && !db.proxyPasswordAt
          ? { service: "Hubee : jeton d'accès", address: "https://auth.hubee.numerique.gouv.fr/oauth2/token", ok: false, failure: "proxy_credentials",
              explanation: "Le proxy demande un identifiant et un mot de passe (HTTP 407), ou refuse ceux qui sont enregistrés.",
              advice: `Vérifiez l'identifiant et le mot de passe du proxy ${s.proxy_host}:${s.proxy_port} dans Paramètres › Réseau et proxy (demandez-les au service informatique).` }
          : { service: "Hubee : jeton d'accès", address: "https://auth.hubee.numerique.gouv.fr/oauth2/token", ok: true, failure: null,
              explanation: "Hubee a délivré un jeton : le chemin et les identifiants de la commune sont bons.", advice: "" },
        viaProxy
          ? { service: "API Particulier : disponibilité du quotient familial", address: "https://particulier.api.gouv.fr/api/cnaf_msa_quotient_familial/ping", ok: true, failure: null,
              explanation: "API Particulier répond et le fournisseur du QF (CAF/MSA) est disponible.", advice: "" }
          : { service: "API Particulier : disponibilité du quotient familial", address: "https://particulier.api.gouv.fr/api/cnaf_msa_quotient_familial/ping", ok: false, failure: "tls",
              explanation: "Le certificat présenté pour particulier.api.gouv.fr n'est pas reconnu par Windows : un proxy qui inspecte le trafic s'interpose probablement.",
              advice: "Demandez au service informatique d'installer le certificat de ce proxy dans le magasin de certificats Windows (« Autorités de certification racines de confiance »), ou d'exclure ce site de l'inspection. Guichet QF n'accepte jamais un certificat non reconnu." },
      ];
      return { commune: commune ? commune.name : "Majastres", environment: "production", route, lines };
    },
    retention_get: () => db.retention,
    retention_save: ({ retention }) => {
      if (retention.journal_months < 36)
        return fail("validation", "Journal des accès : 36 mois au moins (conditions d'API Particulier et du formulaire QF).");
      if (retention.journal_months > 36 && retention.journal_justification.trim() === "")
        return fail("validation", "Journal des accès : au-delà de 36 mois, indiquez la justification (elle est demandée sur DataPass).");
      if (retention.qf_history_months < 12 || retention.qf_history_months > 120)
        return fail("validation", "Historique des QF : entre 12 et 120 mois (la période tarifaire en cours et une année pour les contestations de factures).");
      db.retention = { ...retention, journal_justification: retention.journal_justification.trim() };
      return db.retention;
    },
    retention_preview: () => purgeReport(true),
    retention_purge: () => {
      if (db.agent?.role !== "administrateur") return fail("forbidden", "Cette action est réservée aux administrateurs.");
      const done = { ...purgeReport(false), id: db.purges.length + 1, agent: db.agent.name, backup_name: `guichet-qf-${Date.now()}-securite.sqlite3` };
      db.purges.unshift(done);
      db.purgeDone = true;
      journalRow(db.agent.name, "elimination", { detail: done.summary });
      return done;
    },
    purges_list: () => db.purges,
    settings_update: ({ settings }) => {
      if (settings.idle_lock_minutes < 1 || settings.idle_lock_minutes > 240)
        return fail("validation", "Le délai de verrouillage doit être compris entre 1 et 240 minutes.");
      if (settings.sync_interval_minutes < 1 || settings.sync_interval_minutes > 1440)
        return fail("validation", "L'intervalle entre deux relevés Hubee doit être compris entre 1 et 1 440 minutes (24 heures).");
      db.settings = { ...settings };
      return db.settings;
    },
    journal_list: ({ filter }) => {
      const rows = db.journal
        .filter((r) => (!filter.agent || r.agent === filter.agent) && (!filter.action || r.action === filter.action))
        .filter((r) => !filter.before_id || r.id < filter.before_id)
        .slice()
        .reverse();
      return { rows: rows.slice(0, 200), more: rows.length > 200, agents: [...new Set(db.journal.map((r) => r.agent))].sort() };
    },
    journal_verify: () => ({
      intact: true,
      rows: db.journal.length,
      first_id: 1,
      last_id: db.journal.length,
      head_hash: "3f1c".padEnd(64, "0"),
      broken_row: null,
      reason: null,
    }),
    journal_export: ({ filter }) => {
      const denied = needAdmin();
      if (denied) return fail(denied.code, denied.message);
      const rows = db.journal.length;
      journalRow(db.agent.name, "export", { detail: `Journal des accès : ${rows} ligne(s)`, commune_id: filter.commune_id });
      return { path: "/home/mairie/Documents/journal-des-acces-2026-11-23-0946.csv", rows };
    },
  };

  // The inbox: a few dossiers, two of them from the same family.
  const dossier = (id, nom, prenoms, valeur, statut, minutesAgo, extra = {}) => ({
    id,
    reference: `R${String(id).padStart(2, "0")}7XK2P9QZB4`.slice(0, 13),
    external_id: null,
    statut,
    reason: null,
    nom,
    prenoms,
    quotient: { fournisseur: "CNAF", valeur, annee: 2026, mois: 10 },
    nb_enfants: 2,
    recu_le: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    famille_rang: 0,
    famille_taille: 1,
    ...extra,
  });
  db.dossiers = [
    dossier(41, "LEFÈVRE", "Élodie Cécile", 642, "nouveau", 12, { famille_taille: 2 }),
    dossier(37, "LEFÈVRE", "Élodie Cécile", 598, "refuse", 60 * 24 * 20, { famille_rang: 1, famille_taille: 2 }),
    dossier(40, "N'DIAYE", "Anaïs", null, "nouveau", 45),
    dossier(39, "MARTIN", "Zoé", 1210, "a_verifier", 90, { reason: "Le fichier « FormulaireQF.json » n'est pas un JSON lisible." }),
    dossier(38, "DA SILVA", "Inès", 431, "traite", 60 * 24 * 3),
  ];
  const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const syncState = {
    commune_id: 1,
    running: false,
    batch: 0,
    done: 0,
    total: 0,
    last_attempt: new Date(Date.now() - 4 * 60_000).toISOString(),
    last_success: new Date(Date.now() - 4 * 60_000).toISOString(),
    last_error: params.get("sync") === "error" ? "Hubee ne répond pas pour le moment : le relevé sera repris automatiquement." : null,
    last_summary: { nouveaux: 2, deja_connus: 0, incomplets: 0, erreurs: 0, clotures: 0 },
    configured: true,
  };
  const listeners = [];
  // The QF refresh: ?refresh=none shows a commune never refreshed, ?refresh=stopped
  // a run stopped by a revoked token; otherwise a run waits for "Appliquer".
  const refreshListeners = [];
  const refreshSummary = (extra = {}) => {
    const summary = {
      run_id: 3, commune_id: 1, state: "apercu", trigger: "programmee", agent: "système",
      started_at: new Date(Date.now() - 50 * 60_000).toISOString(), annee: 2026, mois: 11,
      total: 42, answered: 40, changed: 12, to_review: 2, pending: 0, opted_out: 3, stop_reason: null, ...extra,
    };
    const n = (k, word) => `${k} ${word}${k > 1 ? "s" : ""}`;
    const queried = summary.answered + summary.to_review;
    summary.text = `${n(queried, "famille")} interrogée${queried > 1 ? "s" : ""}, ${summary.changed} ${summary.changed > 1 ? "changent" : "change"} de QF, ${summary.to_review} à revoir, ${summary.pending} en attente`
      + (summary.opted_out > 0 ? ` (${n(summary.opted_out, "famille")} refusant l'actualisation, non interrogée${summary.opted_out > 1 ? "s" : ""})` : "");
    return summary;
  };
  const refreshView = {
    commune_id: 1,
    schedule: { kind: "mensuelle", jour: 10 },
    configured: true,
    running: false,
    progress: null,
    latest: params.get("refresh") === "none" ? null
      : params.get("refresh") === "stopped"
        ? refreshSummary({ state: "arretee", answered: 17, changed: 5, to_review: 0, pending: 25, stop_reason: "Le jeton API Particulier de la commune a été révoqué (mis sur liste noire). Le demandeur de l'habilitation doit en obtenir un nouveau sur particulier.api.gouv.fr/compte ; un administrateur l'enregistre ensuite dans Paramètres › Secrets." })
        : refreshSummary(),
    last_error: null,
  };
  const refreshChanges = [
    { family_id: 11, external_id: "0h4k7m2p9r3t5v8x1z6b0d2f4g", name: "LEFÈVRE ÉLODIE CÉCILE", previous: 598, valeur: 642, fournisseur: "CNAF", tranches: ["cantine : Tranche 1 → Tranche 2"] },
    { family_id: 12, external_id: "1a4k7m2p9r3t5v8x1z6b0d2f4g", name: "N'DIAYE ANAÏS", previous: null, valeur: 431, fournisseur: "MSA", tranches: ["cantine : Tarif par défaut (QF non connu) → Tranche 1"] },
    { family_id: 13, external_id: "2a4k7m2p9r3t5v8x1z6b0d2f4g", name: "MARTIN ZOÉ", previous: 1210, valeur: null, fournisseur: "CNAF", tranches: ["cantine : Tranche 3 → Tarif par défaut (QF non connu)"] },
  ];
  const refreshReviews = [
    { family_id: 14, external_id: "3a4k7m2p9r3t5v8x1z6b0d2f4g", name: "DA SILVA INÈS", message: "Plus de dossier CAF/MSA ? La CAF n'a plus de dossier pour cette famille. Vérifiez avec elle (changement de caisse, fin de droits) et proposez l'attestation papier : la famille n'est pas écartée.", api_code: "23003" },
  ];
  const emitRefresh = () => {
    for (const listener of refreshListeners) listener({ payload: structuredClone(refreshView) });
  };
  const detail = (row) => ({
    row,
    case_id: `case-${row.id}`,
    demandeur: { nom_naissance: row.nom, prenoms: row.prenoms, date_naissance: "1988-03-14", genre: "female", pays_naissance: "99100", lieu_naissance: "04107" },
    allocataires: [{ nom_naissance: row.nom, nom_usage: null, prenoms: row.prenoms, date_naissance: "1988-03-14", sexe: "F" }],
    enfants: [
      { nom_naissance: row.nom, nom_usage: null, prenoms: "Lucas", date_naissance: "2017-05-02", sexe: "M" },
      { nom_naissance: row.nom, nom_usage: null, prenoms: "Jade", date_naissance: "2020-09-21", sexe: "F" },
    ],
    files: [
      { id: row.id * 10 + 1, name: "FormulaireQF.json", mime_type: "application/json", size: 1843 },
      { id: row.id * 10 + 2, name: "FormulaireQF.xml", mime_type: "application/xml", size: 3994 },
      { id: row.id * 10 + 3, name: `quotient_familial_${row.nom}.pdf`, mime_type: "application/pdf", size: 1810 },
    ],
    files_eliminated_at: null,
    history: [
      { at: row.recu_le, label: "Dossier relevé sur Hubee et enregistré dans Guichet QF" },
      { at: row.recu_le, label: "Accusé de réception envoyé à Hubee (reçu par la commune)" },
    ],
    decision_message: row.statut === "refuse" ? "Attestation illisible : merci de renvoyer le formulaire." : null,
    closable: row.statut === "nouveau" || row.statut === "recu",
    same_family: db.dossiers.filter((d) => d.id !== row.id && d.nom === row.nom),
  });
  Object.assign(commands, {
    // ?token=expire or ?token=30 shows the token guardian's banner.
    token_banners: () => {
      const token = params.get("token");
      if (!token) return [];
      const expired = token === "expire";
      return [{
        commune_id: 1,
        datapass_url: "https://datapass.api.gouv.fr/demandes/42",
        warning: {
          urgency: expired ? "expire" : "attention",
          days_left: expired ? -3 : 21,
          message: expired
            ? "Le jeton API Particulier de Majastres a expiré le 20/11/2026 : la recherche de QF au guichet est impossible. Seul le demandeur de l'habilitation DataPass (souvent le maire ou le secrétaire général) peut le prolonger de 18 mois, depuis son compte sur particulier.api.gouv.fr ; il reçoit aussi les rappels par courriel. Enregistrez ensuite le jeton prolongé dans Paramètres › Secrets."
            : "Le jeton API Particulier de Majastres expire le 14/12/2026, dans 21 jours. Seul le demandeur de l'habilitation DataPass (souvent le maire ou le secrétaire général) peut le prolonger de 18 mois, depuis son compte sur particulier.api.gouv.fr ; il reçoit aussi les rappels par courriel.",
        },
      }];
    },
    particulier_token_compromised: ({ communeId }) => {
      if (!db.secrets[communeId].particulier_token) return fail("not_found", "Aucun jeton API Particulier n'est enregistré pour cette commune : il n'y a rien à retirer.");
      db.secrets[communeId].particulier_token = null;
      const body = "Bonjour,\n\nLe jeton API Particulier de Majastres (SIRET 21040107100019) a pu être divulgué. Conformément aux conditions générales d'utilisation, nous vous le signalons et vous demandons de le révoquer.\n\nHabilitation DataPass : https://datapass.api.gouv.fr/demandes/42\nCirconstances : (à compléter)\n\nCordialement,\nClaire Martin\nMajastres\n";
      return { address: "support@particulier.api.gouv.fr", subject: "Jeton API Particulier compromis — Majastres (SIRET 21040107100019)", body, mailto: "mailto:support@particulier.api.gouv.fr", mail_opened: params.get("mail") !== "none" };
    },
    birth_communes: ({ query }) =>
      [
        { cog: "42218", name: "Saint-Étienne", departement: "42", current: true, note: null },
        { cog: "08480", name: "Villers-Semeuse", departement: "08", current: true, note: null },
        { cog: "74011", name: "Annecy-le-Vieux", departement: "74", current: false, note: "commune fusionnée dans Annecy (commune déléguée)" },
      ].filter((c) => fold(c.name).includes(fold(query)) || c.cog.startsWith(query)),
    birth_countries: ({ query }) =>
      [
        { cog: "99350", name: "Maroc" },
        { cog: "99127", name: "Italie" },
      ].filter((c) => fold(c.name).includes(fold(query))),
    counter_lookup: ({ request }) => {
      if (!request.piece_verifiee) return fail("validation", "Vérifiez la pièce d'identité.");
      journalRow(db.agent.name, "consultation_qf", { motif: request.motif, commune_id: 1 });
      return {
        quotient: { fournisseur: "CNAF", valeur: 2550, annee: request.annee ?? 2026, mois: request.mois ?? 11, annee_calcul: 2026, mois_calcul: 10 },
        allocataires: [{ nom_naissance: "LEFEBVRE", nom_usage: null, prenoms: "ALEXIS", date_naissance: "27/12/1982", sexe: "F" }],
        enfants: null,
        adresse: ["Madame LEFEBVRE ALEXIS", "1 RUE MONTORGUEIL", "75002 PARIS", "FRANCE"],
        request_id: "4e0a1b2c-1d2e-4f30-8a41-5b6c7d8e9f00",
      };
    },
    inbox_search: ({ query }) => {
      const words = fold(query.text).split(/\s+/).filter(Boolean);
      const rows = db.dossiers
        .filter((d) => !query.statut || d.statut === query.statut)
        .filter((d) => words.every((w) => fold(`${d.nom} ${d.prenoms}`).includes(w)) || d.reference === query.text.trim().toUpperCase());
      return { rows, total: rows.length };
    },
    inbox_new_count: () => db.dossiers.filter((d) => d.statut === "nouveau").length,
    dossier_open: ({ id }) => {
      const row = db.dossiers.find((d) => d.id === id);
      if (!row) return fail("not_found", "Ce dossier n'existe pas.");
      if (row.statut === "nouveau") row.statut = "recu";
      journalRow(db.agent.name, "dossier_ouvert", { reference: row.reference, commune_id: 1, commune_name: "Majastres" });
      return detail(row);
    },
    dossier_file_open: () => null,
    dossier_decide: ({ id, refus }) => {
      const row = db.dossiers.find((d) => d.id === id);
      row.statut = refus === null ? "traite" : "refuse";
      return detail(row);
    },
    refresh_state: () => structuredClone(refreshView),
    refresh_now: () => {
      // A short fake run, so that the progress bar can be seen.
      let done = 0;
      const total = 8;
      const step = () => {
        refreshView.running = done < total;
        refreshView.progress = { run_id: 4, done, total, errors: done > 5 ? 1 : 0 };
        if (done === total) {
          refreshView.latest = refreshSummary({ run_id: 4, trigger: "manuelle", agent: db.agent.name, started_at: now(), total, answered: 7, changed: 3, to_review: 1, opted_out: 0 });
        }
        emitRefresh();
        if (done++ < total) setTimeout(step, 400);
      };
      step();
      return null;
    },
    refresh_preview: ({ runId }) => {
      const summary = refreshView.latest;
      const changes = refreshChanges.slice(0, Math.min(summary.changed, refreshChanges.length));
      return {
        summary,
        headline: `${summary.changed} famille${summary.changed > 1 ? "s changent" : " change"} de QF, ${changes.length} famille${changes.length > 1 ? "s changent" : " change"} de tranche.`,
        tranche_changes: changes.length,
        changes,
        to_review: summary.to_review > 0 ? refreshReviews : [],
        run_id: runId,
      };
    },
    refresh_apply: () => {
      const written = refreshView.latest.changed;
      refreshView.latest = { ...refreshView.latest, state: "appliquee" };
      return written;
    },
    refresh_schedule_set: ({ schedule }) => {
      if (schedule.kind !== "aucune" && (schedule.jour < 1 || schedule.jour > 28)) return fail("validation", "Jour : choisissez un jour de 1 à 28 (présent dans tous les mois).");
      refreshView.schedule = schedule;
      return null;
    },
    sync_states: () => [syncState],
    sync_now: () => {
      // A short fake pass, so that the progress bar can be seen.
      let done = 0;
      const step = () => {
        Object.assign(syncState, { running: done < 3, batch: 1, done, total: 3 });
        if (done === 3) Object.assign(syncState, { last_attempt: now(), last_success: now() });
        for (const listener of listeners) listener({ payload: { ...syncState } });
        if (done++ < 3) setTimeout(step, 700);
      };
      step();
      return null;
    },
  });

  function journalRow(agent, action, extra = {}) {
    const row = {
      id: db.journal.length + 1,
      at: now(),
      agent,
      commune_id: null,
      commune_siret: null,
      commune_name: null,
      action,
      motif: null,
      reference: null,
      endpoint: null,
      recipient: null,
      http_status: null,
      api_code: null,
      request_id: null,
      detail: null,
      prev_hash: "0".repeat(64),
      hash: "0".repeat(64),
      ...extra,
    };
    db.journal.push(row);
    return row;
  }
  for (let i = 0; i < 12; i++) {
    journalRow(i % 3 === 0 ? "Paul Martin" : "Émilie Durand", i % 4 === 3 ? "dossier_ouvert" : "consultation_qf", {
      commune_id: 1,
      commune_name: "Majastres",
      commune_siret: "21040107100019",
      motif: "inscription cantine",
      reference: `FAM-${1000 + i}`,
      endpoint: "/v3/dss/quotient_familial/identite",
      recipient: "21040107100019",
      http_status: i === 5 ? 404 : 200,
      api_code: i === 5 ? "37001" : null,
      request_id: "4e0a1b2c-1d2e-4f30-8a41-5b6c7d8e9f00",
    });
  }

  // ?view=journal opens that view once the shell is up (for screenshots).
  const view = params.get("view");
  if (view) {
    const open = () => {
      const link = document.getElementById(`nav-${view}`);
      if (link) link.click();
      else setTimeout(open, 50);
    };
    setTimeout(open, 50);
  }

  // ?open=ID opens that dossier once the inbox is listed (for screenshots).
  const openId = params.get("open");
  if (openId) {
    const open = () => {
      const button = document.querySelector(`#inbox-table [data-dossier-id="${openId}"]`);
      if (button) button.click();
      else setTimeout(open, 50);
    };
    setTimeout(open, 50);
  }

  // The Affiche screen. The preview is a real rendering of the poster, kept as
  // a file next to this mock (the browser cannot draw the PDF like the app).
  // ?listing=not_listed or ?listing=unknown shows the other listing states.
  const posterSettings = {};
  const posterLogos = {};
  const posterFile = (communeId, name) => {
    const commune = db.communes.find((c) => c.id === communeId);
    const slug = commune.name.toLowerCase().normalize("NFD").replace(/[^a-z0-9]+/g, "-");
    return `/home/mairie/Documents/${name.replace("{}", slug)}`;
  };
  const posterJournal = (communeId, detail) => db.journal.push({
    id: db.journal.length + 1,
    at: now(),
    agent: db.agent ? db.agent.name : "",
    commune_id: communeId,
    commune_siret: null,
    commune_name: db.communes.find((c) => c.id === communeId)?.name ?? null,
    action: "impression",
    motif: null,
    reference: null,
    endpoint: null,
    recipient: null,
    http_status: null,
    api_code: null,
    request_id: null,
    detail,
    hash: "",
  });
  const FORMAT_LABELS = { a4: "A4", a3: "A3", a5: "A5", a5x2: "2 flyers A5 sur une page A4" };
  Object.assign(commands, {
    poster_studio: ({ communeId }) => ({
      settings: posterSettings[communeId] ?? { services: "Cantine, garderie, centre de loisirs", contact_email: "mairie@majastres.fr", refreshes: false },
      logo: posterLogos[communeId] ?? null,
    }),
    poster_listing: async ({ communeId }) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      const commune = db.communes.find((c) => c.id === communeId);
      const state = params.get("listing") || "open";
      const messages = {
        open: `Le formulaire national est ouvert pour « ${commune.name.toUpperCase()} » (SIRET ${commune.siret}).`,
        not_listed: `Attention : le SIRET ${commune.siret} n'est pas (encore) ouvert sur le formulaire national. Le lien de l'affiche mènerait à « Collectivité non trouvée ». Demandez l'ouverture du service sur API Particulier avant d'afficher.`,
        unknown: "La liste des communes ouvertes sur le formulaire national n'a pas pu être consultée (pas de connexion au site) : vérifiez que le lien ouvre bien la page de la commune avant d'afficher.",
      };
      return { state, message: messages[state] };
    },
    poster_preview: ({ communeId, format, settings }) => {
      if (settings.refreshes && !settings.contact_email) {
        return fail("validation", "Quand la commune actualise les QF, l'affiche doit donner l'adresse e-mail à laquelle les familles peuvent refuser : indiquez l'e-mail de la mairie.");
      }
      posterSettings[communeId] = settings;
      const commune = db.communes.find((c) => c.id === communeId);
      const landscape = format === "a5x2";
      return {
        image: "/__poster-preview.png",
        width: 900,
        height: landscape ? 636 : 1273,
        pdf_bytes: 61_440,
        url: `https://quotient-familial.numerique.gouv.fr/collectivites/${commune.siret}`,
        printed_link: `quotient-familial.numerique.gouv.fr/collectivites/${commune.siret}`,
      };
    },
    poster_open: ({ communeId, format }) => {
      const what = `affiche ${FORMAT_LABELS[format]}`;
      posterJournal(communeId, what);
      return { path: posterFile(communeId, `affiche-{}-${format}.pdf`), bytes: 61_440, what };
    },
    poster_save: ({ communeId, format }) => {
      const what = `affiche ${FORMAT_LABELS[format]}`;
      posterJournal(communeId, what);
      return { path: posterFile(communeId, `affiche-{}-${format}.pdf`), bytes: 61_440, what };
    },
    // The native dialog cannot be shown here: "Enregistrer sous…" saves as if
    // the agent accepted the suggested name (?saveas=cancel: as if cancelled).
    poster_save_as: ({ communeId, format }) => {
      if (params.get("saveas") === "cancel") return null;
      const what = `affiche ${FORMAT_LABELS[format]}`;
      posterJournal(communeId, what);
      return { path: posterFile(communeId, `affiche-{}-${format}.pdf`), bytes: 61_440, what };
    },
    poster_qr_save: ({ communeId, kind }) => {
      const what = `QR code ${kind.toUpperCase()}`;
      posterJournal(communeId, what);
      return { path: posterFile(communeId, `qr-code-{}.${kind}`), bytes: 4_096, what };
    },
    poster_texts: ({ communeId, settings }) => {
      const commune = db.communes.find((c) => c.id === communeId);
      const link = `https://quotient-familial.numerique.gouv.fr/collectivites/${commune.siret}`;
      return {
        website: `Transmettez votre quotient familial en ligne\n\nPour ${settings.services.toLowerCase()}, la mairie de ${commune.name} calcule votre tarif à partir de votre quotient familial. Vous pouvez le lui transmettre en ligne, sans justificatif, sur le formulaire national : ${link}\n\n1. Ouvrez le lien.\n2. Connectez-vous avec FranceConnect.\n3. Vérifiez les informations et validez.`,
        email: `Objet : votre quotient familial en ligne\n\nMadame, Monsieur,\n\nPour ${settings.services.toLowerCase()}, vous pouvez transmettre votre quotient familial à la mairie de ${commune.name} en ligne : ${link}\n\nCordialement,\nLa mairie de ${commune.name}`,
      };
    },
    poster_logo_set: ({ communeId, logo }) => {
      posterLogos[communeId] = logo ? { kind: "png", bytes: Math.round((logo.length * 3) / 4) } : null;
      return posterLogos[communeId];
    },
  });

  // The family file: two families, one doubtful dossier waiting for an agent.
  const member = (id, role, nom, prenoms, naissance, sexe, pivot = false, extra = {}) => ({
    id, role, nom_naissance: nom, nom_usage: null, prenoms, sexe,
    naissance: { annee: naissance[0], mois: naissance[1] ?? null, jour: naissance[2] ?? null },
    pays_naissance: pivot ? "99100" : null, commune_naissance: pivot ? "04107" : null,
    commune_naissance_nom: null, departement_naissance: null, pivot, ...extra,
  });
  const qf = (id, valeur, annee, mois, source, source_label, daysAgo, agent, fournisseur = "CNAF") => ({
    id, valeur, annee, mois, fournisseur, source, source_label,
    recorded_at: new Date(Date.now() - daysAgo * 86_400_000).toISOString(), agent,
  });
  db.families = [
    {
      id: 7, commune_id: 1, external_id: "4k9m2x7qb3vt8r1n6p0s5w2hzc", created_at: "2026-03-02T09:14:00Z", created_by: "système",
      notes: "Préfère être appelée après 17 h.", opt_out: null, enrolment_end: null, identity_cleared_at: null,
      members: [
        member(71, "allocataire", "LEFÈVRE", "Élodie Cécile", [1988, 3, 14], "F", true),
        member(72, "allocataire", "LEFÈVRE", "Marc", [1985, 11], "M"),
        member(73, "enfant", "LEFÈVRE", "Lucas", [2017, 5, 2], "M"),
        member(74, "enfant", "LEFÈVRE", "Jade", [2020, 9, 21], "F"),
      ],
      history: [
        qf(3, 642, 2026, 10, { type: "dossier_hubee", dossier_id: 41 }, "Dossier Hubee", 0, "système"),
        qf(2, null, 2026, 6, { type: "guichet" }, "Guichet", 140, "Paul Durand"),
        qf(1, 598, 2026, 3, { type: "attestation_papier", document: "attestation_paiement" }, "Attestation papier (attestation de paiement)", 230, "Claire Martin", "MSA"),
      ],
      dossiers: [
        { id: 41, reference: "R417XK2P9QZB4", received_at: new Date(Date.now() - 12 * 60_000).toISOString(), statut: "nouveau", how: "par l'identité, automatiquement" },
        { id: 37, reference: "R377XK2P9QZB4", received_at: "2026-03-02T09:14:00Z", statut: "refuse", how: "à la création de la famille" },
      ],
    },
    {
      id: 8, commune_id: 1, external_id: "8d2f6h1k9m3q7t5v0x4z2b6c8e", created_at: "2026-09-12T14:40:00Z", created_by: "Paul Durand",
      notes: "", opt_out: { requested_on: "2026-10-03", channel: "courrier", recorded_at: "2026-10-05T08:30:00Z", recorded_by: "Claire Martin" },
      enrolment_end: { ended_on: "2026-07-04", recorded_at: "2026-07-06T10:12:00Z", recorded_by: "Claire Martin" }, identity_cleared_at: null,
      members: [
        member(81, "allocataire", "DA SILVA", "Inès", [1991, 7, 30], "F", true),
        member(82, "enfant", "DA SILVA", "Noah", [2019], "M"),
      ],
      history: [qf(4, 431, 2026, 9, { type: "guichet" }, "Guichet", 70, "Paul Durand")],
      dossiers: [],
    },
  ];
  db.pendingFamilies = [
    {
      dossier_id: 40, reference: "R407XK2P9QZB4", received_at: new Date(Date.now() - 45 * 60_000).toISOString(),
      applicant: "LEFÈVRE Élodie", candidates: [{ family: null, score: 72 }],
    },
  ];
  const familySummary = (f) => ({
    id: f.id, external_id: f.external_id,
    names: f.members.map((m) => `${m.nom_naissance} ${m.prenoms}`).join(", "),
  });
  const familyById = (id) => db.families.find((f) => f.id === id);
  const paperProblems = (paper) => {
    const problems = [];
    if (paper.valeur === null) problems.push({ field: "valeur", message: "Quotient familial : indiquez le montant écrit sur l'attestation, en euros." });
    else if (paper.valeur < 1 || paper.valeur > 99999) problems.push({ field: "valeur", message: `Quotient familial « ${paper.valeur} » : le montant doit être compris entre 1 et 99999 euros.` });
    if (paper.annee === null || paper.mois === null) problems.push({ field: "periode", message: "Période : indiquez le mois et l'année du quotient familial écrits sur l'attestation." });
    if (!["CNAF", "MSA"].includes(paper.fournisseur)) problems.push({ field: "fournisseur", message: "Organisme : choisissez la CAF (CNAF) ou la MSA, comme sur l'attestation." });
    if (paper.document === null) problems.push({ field: "document", message: "Type de document : choisissez l'attestation de quotient familial, l'attestation de paiement ou la notification de droits." });
    return problems;
  };
  const documentWords = { attestation_quotient_familial: "attestation de quotient familial", attestation_paiement: "attestation de paiement", notification_droits: "notification de droits" };
  let nextFamilyRow = 100;
  Object.assign(commands, {
    family_search: ({ query }) => {
      const words = fold(query).split(/\s+/).filter(Boolean);
      if (words.length === 0) return [];
      return db.families
        .filter((f) => f.external_id === query.trim() || f.dossiers.some((d) => d.reference === query.trim().toUpperCase())
          || words.every((w) => f.members.some((m) => fold(`${m.nom_naissance} ${m.prenoms}`).split(/[^a-z0-9]+/).some((part) => part.startsWith(w)))))
        .map(familySummary);
    },
    family_open: ({ id }) => {
      const family = familyById(id);
      if (!family) return fail("not_found", "Cette famille n'existe pas.");
      journalRow(db.agent.name, "famille_consultee", { reference: `famille ${family.external_id}`, commune_id: 1, commune_name: "Majastres" });
      return structuredClone(family);
    },
    family_paper_check: ({ paper }) => paperProblems(paper),
    family_change: ({ id, change }) => {
      const family = familyById(id);
      if (!family) return fail("not_found", "Cette famille n'existe pas.");
      if (change.type === "notes") family.notes = change.notes.trim();
      if (change.type === "resume") family.opt_out = null;
      if (change.type === "enrolment_resume") family.enrolment_end = null;
      if (change.type === "enrolment_end") {
        if (!change.ended_on) return fail("validation", "Date de fin d'inscription : indiquez le jour où l'inscription de la famille a pris fin.");
        if (change.ended_on > new Date().toISOString().slice(0, 10)) return fail("validation", "Date de fin d'inscription : elle ne peut pas être dans le futur ; enregistrez-la le jour où l'inscription prend fin.");
        family.enrolment_end = { ended_on: change.ended_on, recorded_at: now(), recorded_by: db.agent.name };
      }
      if (change.type === "opt_out") {
        if (!change.requested_on) return fail("validation", "Date de la demande : indiquez le jour où la famille a demandé l'arrêt de l'actualisation.");
        if (!change.channel) return fail("validation", "Moyen utilisé : choisissez comment la famille a fait sa demande (courriel, courrier, guichet ou téléphone).");
        family.opt_out = { requested_on: change.requested_on, channel: change.channel, recorded_at: now(), recorded_by: db.agent.name };
      }
      if (change.type === "paper") {
        const problems = paperProblems(change.paper);
        if (problems.length > 0) return fail("validation", problems[0].message);
        const p = change.paper;
        family.history.unshift(qf(nextFamilyRow++, p.valeur, p.annee, p.mois, { type: "attestation_papier", document: p.document }, `Attestation papier (${documentWords[p.document]})`, 0, db.agent.name, p.fournisseur));
        family.history.sort((a, b) => b.annee - a.annee || b.mois - a.mois);
      }
      if (change.type === "merge_with") {
        const other = familyById(change.absorbed);
        if (!other || other.id === family.id) return fail("validation", "Fusion : choisissez deux familles différentes.");
        family.members.push(...other.members.map((m) => ({ ...m, pivot: false })));
        family.history.push(...other.history);
        family.history.sort((a, b) => b.annee - a.annee || b.mois - a.mois);
        family.dossiers.push(...other.dossiers);
        db.families = db.families.filter((f) => f.id !== other.id);
      }
      return structuredClone(family);
    },
    families_pending: () => db.pendingFamilies.map((p) => ({ ...p, candidates: p.candidates.map((c) => ({ family: familySummary(db.families[0]), score: c.score })) })),
    family_settle: ({ dossierId, familyId }) => {
      db.pendingFamilies = db.pendingFamilies.filter((p) => p.dossier_id !== dossierId);
      return familyId ?? 99;
    },
    family_save_counter: ({ destination }) => {
      const family = destination.type === "family" ? familyById(destination.family_id) : null;
      if (destination.type === "reconcile") {
        return { outcome: { type: "pending", candidates: [{ family_id: 7, score: 70 }] }, family: null, candidates: [{ family: familySummary(db.families[0]), score: 70 }] };
      }
      if (family) return { outcome: { type: "attached", family_id: family.id }, family: familySummary(family), candidates: [] };
      return { outcome: { type: "created", family_id: 99 }, family: { id: 99, external_id: "0a1b2c3d4e5f6g7h8j9k0m1n2p", names: "LEFEBVRE ALEXIS" }, candidates: [] };
    },
  });

  // ?view=familles&family=7 searches for the family and opens it, to look at
  // the family file without clicking; &paper=errors also sends an empty paper
  // attestation, to see the per-field messages.
  if (params.get("family")) {
    const until = (test, then) => {
      const timer = setInterval(() => {
        const found = test();
        if (found) {
          clearInterval(timer);
          then(found);
        }
      }, 50);
    };
    until(() => document.getElementById("families-search"), (input) => {
      input.value = params.get("search") || "lef";
      input.dispatchEvent(new Event("input"));
      until(() => document.querySelector(`#families-results [data-family-id="${params.get("family")}"]`), (button) => {
        button.click();
        if (params.get("paper") === "errors") {
          until(() => document.getElementById("family-paper-submit"), (submit) => {
            submit.click();
            until(() => document.getElementById("family-paper-valeur-error")?.textContent, () => document.getElementById("family-paper-heading").scrollIntoView());
          });
        }
        if (params.get("attestation")) {
          const id = params.get("attestation") === "save_as" ? "family-attestation-save-as" : "family-attestation";
          until(() => document.getElementById(id), (attestation) => attestation.click());
        }
      });
    });
  }

  // ?view=recherche&counter=family fills the counter form, looks the family
  // up and asks to save the card in the family file (the mock then offers a
  // choice of families).
  if (params.get("counter") === "family") {
    const until = (test, then) => {
      const timer = setInterval(() => {
        const found = test();
        if (found) {
          clearInterval(timer);
          then(found);
        }
      }, 50);
    };
    const type = (id, value) => {
      const input = document.getElementById(id);
      input.value = value;
      input.dispatchEvent(new Event("input"));
    };
    until(() => document.getElementById("counter-form"), () => {
      type("counter-nom-naissance", "LEFEBVRE");
      type("counter-prenom-1", "Alexis");
      document.getElementById("counter-sexe-F").click();
      type("counter-annee", "1982");
      type("counter-commune", "saint");
      until(() => document.querySelector('#counter-commune-suggestions [data-key="42218"]'), (option) => {
        option.click();
        document.getElementById("counter-motif").selectedIndex = 1;
        document.getElementById("counter-piece").click();
        document.getElementById("counter-submit").click();
        until(() => document.getElementById("counter-save-family"), (save) => {
          save.click();
          if (params.get("choose") === "new") {
            until(() => document.getElementById("counter-family-new"), (fresh) => fresh.click());
          }
        });
      });
    });
  }

  // Personal letters (Familles screen). The preview reuses the poster's
  // picture: the browser cannot draw the letters' PDF like the app.
  const letterFamilies = [
    { family_id: 11, name: "ARNAUD", last_qf: [2024, 9] },
    { family_id: 12, name: "GARCIA – MOREAU", last_qf: null },
    { family_id: 13, name: "PETIT", last_qf: null },
  ];
  const letterWhat = (count) => (count === 1 ? "lettre personnelle (1 famille)" : `lettres personnelles (${count} familles)`);
  Object.assign(commands, {
    letters_recipients: ({ selection }) => {
      if (selection.kind === "families") return letterFamilies.filter((f) => selection.ids.includes(f.family_id));
      return letterFamilies.filter((f) => !f.last_qf || f.last_qf[0] * 100 + f.last_qf[1] < selection.annee * 100 + selection.mois);
    },
    letters_preview: ({ selection }) => ({ image: "/__poster-preview.png", width: 900, height: 1273, letters: selection.ids.length, pdf_bytes: 40_960 }),
    letters_open: ({ communeId, selection }) => {
      posterJournal(communeId, letterWhat(selection.ids.length));
      return { path: posterFile(communeId, "lettres-qf-{}.pdf"), bytes: 40_960 * selection.ids.length, what: letterWhat(selection.ids.length) };
    },
    letters_save_as: ({ communeId, selection }) => {
      if (params.get("saveas") === "cancel") return null;
      posterJournal(communeId, letterWhat(selection.ids.length));
      return { path: posterFile(communeId, "lettres-qf-{}.pdf"), bytes: 40_960 * selection.ids.length, what: letterWhat(selection.ids.length) };
    },
  });

  // A family's attestation of its QF (Familles screen, a family's file).
  const attested = (familyId) => {
    const family = familyById(familyId);
    if (!family) return fail("not_found", "Cette famille n'existe plus.");
    if (family.history.length === 0) {
      return fail("validation", "Cette famille n'a encore aucun quotient familial : il n'y a rien à attester. Enregistrez d'abord son QF (guichet, dossier reçu ou attestation papier).");
    }
    const communeId = family.commune_id ?? 1;
    posterJournal(communeId, "attestation de QF");
    db.journal[db.journal.length - 1].reference = `famille ${family.external_id}`;
    return { path: posterFile(communeId, `attestation-qf-{}-${family.external_id}.pdf`), bytes: 28_672, what: "attestation de QF" };
  };
  // Paramètres › Protection des données (RGPD): the commune's settings, checked
  // like the backend (the main rules), and the documents they make.
  const rgpdStored = {};
  const rgpdDefaults = (communeId) => ({
    mayor_name: "", dpo_name: "", dpo_email: "", dpo_address: "", deliberation_number: "", deliberation_date: null,
    services: posterSettings[communeId]?.services ?? "Cantine, garderie, centre de loisirs",
    recipients: ["agents habilités de la mairie", "régie de recettes / trésorerie pour la facturation"],
    postal_address: "", requests_email: posterSettings[communeId]?.contact_email ?? "",
  });
  const isEmail = (text) => /^[^@\s]+@[^@\s]+\.[^@\s.]+$/.test(text.trim());
  const foldName = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean).join(" ");
  const rgpdCheck = (s) => {
    const problems = [];
    const need = (field, value, message) => { if (value.trim() === "") problems.push({ field, message }); };
    need("mayor_name", s.mayor_name, "Nom du maire : obligatoire, il représente la commune, responsable du traitement.");
    need("dpo_name", s.dpo_name, "Délégué à la protection des données : indiquez son nom (DataPass le demande).");
    if (s.dpo_email.trim() === "" && s.dpo_address.trim() === "")
      problems.push({ field: "dpo_email", message: "Contact du délégué : indiquez son e-mail ou son adresse postale (ou les deux), que les familles puissent le joindre." });
    else if (s.dpo_email.trim() !== "" && !isEmail(s.dpo_email))
      problems.push({ field: "dpo_email", message: "E-mail du délégué : l'adresse doit avoir la forme nom@domaine.fr." });
    need("deliberation_number", s.deliberation_number, "Délibération : indiquez son numéro ; DataPass exige la délibération qui fixe les tarifs selon le quotient familial.");
    if (!s.deliberation_date) problems.push({ field: "deliberation_date", message: "Date de la délibération : obligatoire." });
    else if (s.deliberation_date > now().slice(0, 10)) problems.push({ field: "deliberation_date", message: "Date de la délibération : elle ne peut pas être dans le futur." });
    need("services", s.services, "Services concernés : indiquez au moins un service (cantine, garderie…).");
    if (s.recipients.every((r) => r.trim() === "")) problems.push({ field: "recipients", message: "Destinataires : nommez au moins un destinataire des données (DataPass le demande)." });
    need("postal_address", s.postal_address, "Adresse de la mairie : obligatoire, les familles peuvent y écrire.");
    if (s.requests_email.trim() === "") problems.push({ field: "requests_email", message: "E-mail pour les demandes des familles : obligatoire (accès, rectification, refus de l'actualisation)." });
    else if (!isEmail(s.requests_email)) problems.push({ field: "requests_email", message: "E-mail pour les demandes : l'adresse doit avoir la forme nom@domaine.fr." });
    const warnings = foldName(s.dpo_name) !== "" && foldName(s.dpo_name) === foldName(s.mayor_name)
      ? ["Le délégué à la protection des données ne peut pas être le maire : DataPass demande une autre personne (un agent formé, le DPO mutualisé du centre de gestion ou de l'intercommunalité)."]
      : [];
    return { problems, warnings };
  };
  const rgpdView = (communeId) => {
    const stored = rgpdStored[communeId];
    const settings = stored?.settings ?? rgpdDefaults(communeId);
    return { settings, ...rgpdCheck(settings), saved_at: stored?.at ?? null, saved_by: stored?.by ?? null };
  };
  const rgpdMade = (document, format) => {
    const communeId = document.commune_id;
    const kind = format === "pdf" ? "PDF" : "texte";
    const extension = format === "pdf" ? "pdf" : "txt";
    if (document.kind === "bordereau") {
      if (!db.purges.some((p) => p.id === document.purge_id)) return fail("not_found", `Aucune purge n° ${document.purge_id} n'a été faite sur ce poste.`);
      posterJournal(communeId, `bordereau d'élimination (${kind})`);
      db.journal[db.journal.length - 1].reference = `purge ${document.purge_id}`;
      return { path: posterFile(communeId, `bordereau-elimination-purge-${document.purge_id}-{}.${extension}`), bytes: 9_216, what: `bordereau d'élimination (${kind})` };
    }
    const view = rgpdView(communeId);
    if (view.problems.length > 0) {
      return fail("validation", `Complétez d'abord les paramètres RGPD de la commune (Paramètres › Protection des données) : ${view.problems.map((p) => p.message).join(" ")}`);
    }
    const what = document.kind === "registre" ? `registre des traitements (${kind})` : `note d'information des familles (${kind})`;
    const stem = document.kind === "registre" ? "registre-rgpd" : "note-information-familles";
    posterJournal(communeId, what);
    return { path: posterFile(communeId, `${stem}-{}.${extension}`), bytes: 14_336, what };
  };
  Object.assign(commands, {
    rgpd_settings_get: ({ communeId }) => needAgent() ? Promise.reject(needAgent()) : rgpdView(communeId),
    rgpd_settings_check: ({ settings }) => rgpdCheck(settings),
    rgpd_settings_save: ({ communeId, settings }) => {
      if (needAdmin()) return Promise.reject(needAdmin());
      const check = rgpdCheck(settings);
      if (check.problems.length > 0) return fail("validation", check.problems.map((p) => p.message).join(" "));
      const cleaned = { ...settings, recipients: settings.recipients.map((r) => r.trim()).filter(Boolean) };
      rgpdStored[communeId] = { settings: cleaned, at: now(), by: db.agent.name };
      return rgpdView(communeId);
    },
    rgpd_document_open: ({ document, format }) => rgpdMade(document, format),
    rgpd_document_save_as: ({ document, format }) => (params.get("saveas") === "cancel" ? null : rgpdMade(document, format)),
  });
  Object.assign(commands, {
    family_attestation_open: ({ familyId }) => attested(familyId),
    family_attestation_save_as: ({ familyId }) => (params.get("saveas") === "cancel" ? null : attested(familyId)),
  });

  // Exporter pour la facturation (Familles screen).
  const EXPORT_COLUMNS = [
    ["famille", "N° famille"], ["code", "Code famille"], ["allocataires", "Allocataires"], ["enfants", "Enfants"],
    ["nombre_enfants", "Nombre d'enfants"], ["qf", "Quotient familial"], ["qf_mois", "Mois du QF"], ["organisme", "Organisme"],
    ["source", "Source"], ["date_enregistrement", "Enregistré le"], ["refus_actualisation", "Refus de l'actualisation"], ["fin_inscription", "Fin d'inscription"],
    ["tranche", "Tranche (une colonne par service)"], ["tarif", "Tarif (une colonne par service)"],
  ];
  const exported = (communeId, preset, columns) => {
    if (columns.length === 0) return fail("validation", "Choisissez au moins une colonne à exporter.");
    posterJournal(communeId, `Familles pour la facturation : 3 familles, format ${preset === "csv" ? "CSV" : "Excel (France)"}`);
    return { path: posterFile(communeId, "familles-2026-11-23-0930.csv"), rows: 3, bytes: 612, warning: "Ce fichier contient des données personnelles : conservez-le en lieu sûr et supprimez-le dès qu'il n'est plus utile." };
  };
  Object.assign(commands, {
    families_export_columns: () => EXPORT_COLUMNS.map(([column, header]) => ({ column, header })),
    families_export: ({ communeId, preset, columns }) => exported(communeId, preset, columns),
    families_export_as: ({ communeId, preset, columns }) => (params.get("saveas") === "cancel" ? null : exported(communeId, preset, columns)),
  });

  // Tarifs: the Champcevinel canteen (brackets) and a taux d'effort. The mock
  // prices like the backend for these shapes; its checks are the main ones.
  const grids = [
    { id: 901, service: "cantine", kind: "ordinaire", valid_from: "2026-09-01", valid_to: null, unit: "repas", default_cents: 350, gaps_confirmed: false,
      pricing: { kind: "tranches", brackets: [
        { label: "Tranche 1", min: 0, max: 622, price_cents: 100 }, { label: "Tranche 2", min: 623, max: 1000, price_cents: 330 },
        { label: "Tranche 3", min: 1001, max: 1500, price_cents: 340 }, { label: "Tranche 4", min: 1501, max: null, price_cents: 350 }] } },
    { id: 902, service: "accueil du soir", kind: "ordinaire", valid_from: "2026-09-01", valid_to: null, unit: "heure", default_cents: 450, gaps_confirmed: false,
      pricing: { kind: "taux_effort", rate: "0,0036", floor_cents: 260, ceiling_cents: 450, qf_floor: null, qf_ceiling: null } },
  ];
  let nextGrid = 903;
  const priceFor = (grid, qf) => {
    const p = (kind, label, price_cents) => ({ basis: kind === "tranche" ? { kind, index: label[1] } : { kind }, label: kind === "tranche" ? label[0] : label, price_cents, unit: grid.unit });
    if (qf === null) return p("defaut", "Tarif par défaut (QF non connu)", grid.default_cents);
    if (grid.pricing.kind === "tranches") {
      const i = grid.pricing.brackets.findIndex((b) => b.min <= qf && (b.max === null || qf <= b.max));
      return i < 0 ? p("hors_tranches", "Hors tranches (tarif par défaut)", grid.default_cents) : p("tranche", [grid.pricing.brackets[i].label || `Tranche ${i + 1}`, i], grid.pricing.brackets[i].price_cents);
    }
    const cents = Math.round(qf * Number(grid.pricing.rate.replace(",", ".")) * 100);
    if (grid.pricing.floor_cents !== null && cents < grid.pricing.floor_cents) return p("plancher", "Taux d'effort (tarif plancher)", grid.pricing.floor_cents);
    if (grid.pricing.ceiling_cents !== null && cents > grid.pricing.ceiling_cents) return p("plafond", "Taux d'effort (tarif plafond)", grid.pricing.ceiling_cents);
    return p("proportionnel", "Taux d'effort", cents);
  };
  const today = new Date().toISOString().slice(0, 10);
  const current = () => grids.filter((g) => g.valid_from <= today && (g.valid_to === null || today <= g.valid_to));
  const tariffsOf = (qf) => current().map((g) => ({ grid_id: g.id, service: g.service, qf, priced: priceFor(g, qf) }));
  const gridProblems = (grid) => {
    const found = [];
    const err = (field, bracket, message) => found.push({ severity: "erreur", field, bracket, message });
    if (grid.kind === "creche_eaje") err("kind", null, "Une crèche ou un autre établissement d'accueil du jeune enfant (EAJE) ne peut pas être tarifé à partir de ce quotient familial : la prestation de service unique (PSU) de la CNAF impose un taux d'effort horaire appliqué aux ressources annuelles N-2 du foyer. Calculez ce tarif avec le barème PSU de votre CAF.");
    if (!grid.service) err("service", null, "Indiquez le service tarifé (cantine, périscolaire, accueil de loisirs…).");
    if (grid.pricing.kind === "tranches") {
      const b = grid.pricing.brackets;
      b.forEach((x, i) => {
        if (x.min < 0) err("brackets", i, `Tranche ${i + 1} : le QF de début ne peut pas être négatif.`);
        if (x.max !== null && x.max < x.min) err("brackets", i, `Tranche ${i + 1} : la fin (${x.max} €) est avant le début (${x.min} €).`);
        if (i > 0 && b[i - 1].max !== null && x.min <= b[i - 1].max) err("brackets", i, `${b[i - 1].label || `Tranche ${i}`} et ${x.label || `Tranche ${i + 1}`} se chevauchent de ${x.min} € à ${b[i - 1].max} € : un même QF aurait deux tarifs.`);
        if (i > 0 && b[i - 1].max !== null && x.min > b[i - 1].max + 1) found.push({ severity: "avertissement", field: "brackets", bracket: i, message: `Aucune tranche ne couvre les QF de ${b[i - 1].max + 1} € à ${x.min - 1} € (entre ${b[i - 1].label} et ${x.label}).` });
      });
    } else if (grid.pricing.floor_cents !== null && grid.pricing.ceiling_cents !== null && grid.pricing.floor_cents > grid.pricing.ceiling_cents) {
      err("floor_cents", null, "Le tarif plancher est supérieur au tarif plafond.");
    }
    return found;
  };
  Object.assign(commands, {
    tariff_grids: () => structuredClone(grids),
    tariff_grid_check: ({ grid }) => gridProblems(grid),
    tariff_grid_save: ({ grid }) => {
      const problems = gridProblems(grid).filter((x) => x.severity === "erreur" || !grid.gaps_confirmed);
      if (problems.length > 0) return fail("validation", problems.map((x) => x.message).join(" "));
      if (grid.id === null) grids.push({ ...grid, id: nextGrid++ });
      else grids.splice(grids.findIndex((g) => g.id === grid.id), 1, grid);
      return grid.id ?? nextGrid - 1;
    },
    tariff_grid_delete: ({ id }) => { grids.splice(grids.findIndex((g) => g.id === id), 1); return null; },
    family_tariffs: ({ familyId }) => tariffsOf(familyById(familyId)?.history[0]?.valeur ?? null),
    qf_tariffs: ({ qf }) => tariffsOf(qf),
    window_painted: () => null,
    tariff_distribution: ({ service }) => {
      const grid = current().find((g) => g.service === service);
      const qfs = db.families.map((f) => f.history[0]?.valeur ?? null);
      const rows = grid.pricing.kind === "tranches"
        ? grid.pricing.brackets.map((b, i) => ({ basis: { kind: "tranche", index: i }, label: b.label, price_cents: b.price_cents, families: 0 }))
        : [["plancher", "Tarif plancher", grid.pricing.floor_cents], ["proportionnel", "Taux d'effort", null], ["plafond", "Tarif plafond", grid.pricing.ceiling_cents]].map(([kind, label, price_cents]) => ({ basis: { kind }, label, price_cents, families: 0 }));
      let unknown = 0;
      for (const qf of qfs) {
        const priced = priceFor(grid, qf);
        if (priced.basis.kind === "defaut") unknown++;
        else {
          const row = rows.find((r) => r.basis.kind === priced.basis.kind && r.basis.index === priced.basis.index);
          if (row) row.families++;
        }
      }
      return { grid_id: grid.id, service, unit: grid.unit, rows, unknown_qf: unknown, total: qfs.length };
    },
  });

  window.__MOCK_CALLS__ = [];
  window.__TAURI__ = {
    event: {
      listen: async (name, handler) => {
        if (name === "sync-state") listeners.push(handler);
        if (name === "refresh-state") refreshListeners.push(handler);
        return () => {};
      },
    },
    core: {
      invoke: async (command, args = {}) => {
        window.__MOCK_CALLS__.push([command, args]);
        const handler = commands[command];
        if (!handler) throw `command ${command} not found`;
        return handler(args);
      },
    },
  };
})();
