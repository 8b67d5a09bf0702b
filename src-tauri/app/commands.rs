//! The commands the web view may invoke. Each one: arguments in, who-is-at-the-desk check, one
//! domain call, `{ code, message }` out. `async` so SQLite and Argon2 never run on the UI thread.

use jiff::Timestamp;
use tauri::State;

use super::poller::SyncState;
use super::{ipc, lock, AppStatus, Shell, StoreSlot};
use crate::agents::{self, Agent, NewAgent};
use crate::communes::{self, Commune, NewCommune};
use crate::desk::DeskSession;
use crate::error::{IpcError, Result};
use crate::families::attestation as families_attestation;
use crate::families::export as families_export;
use crate::families::view::{self as families_view, CounterSaved, FamilyChange, FamilyView};
use crate::families::{self, FamilySummary, PaperAttestation, PaperProblem};
use crate::inbox::{self, DossierDetail, InboxPage, InboxQuery};
use crate::journal;
use crate::network::check::{self as network_check, ConnectionReport};
use crate::network::{self, NetworkChange, NetworkView};
use crate::poster::mailing;
use crate::poster::settings::{LogoInfo, PosterSettings};
use crate::poster::studio::{self, KitTexts, PosterPreview, PosterStudio, Printed, QrKind};
use crate::poster::{Format, ListingStatus};
use crate::retention::{self, PurgeReport, Retention};
use crate::rgpd::{self, RgpdCheck, RgpdSettings, RgpdView};
use crate::settings::{self, Settings};
use crate::setup::{self, FirstRun};
use crate::store::backup::{self, BackupInfo};
use crate::sync::Decision;
use crate::tariffs;
use crate::vault::{self, SecretKind, SecretStatus, SecretString, VaultStatus};

type Reply<T> = std::result::Result<T, IpcError>;

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        window_painted,
        app_status,
        about,
        first_run_complete,
        commune_check,
        agent_check,
        demo_start,
        demo_stop,
        agents_list,
        session_open,
        session_lock,
        session_touch,
        communes_list,
        commune_add,
        commune_update,
        commune_delete,
        agent_add,
        agent_set_active,
        agent_change_pin,
        secrets_status,
        secret_set,
        secret_delete,
        vault_unlock,
        backups_list,
        backup_create,
        backup_restore,
        settings_get,
        settings_update,
        retention_get,
        retention_save,
        network_get,
        network_save,
        network_check,
        retention_preview,
        retention_purge,
        purges_list,
        rgpd_settings_get,
        rgpd_settings_check,
        rgpd_settings_save,
        rgpd_document_open,
        rgpd_document_save_as,
        inbox_search,
        inbox_new_count,
        dossier_open,
        dossier_file_open,
        dossier_decide,
        sync_states,
        sync_now,
        refresh_state,
        refresh_now,
        refresh_preview,
        refresh_apply,
        refresh_schedule_set,
        journal_list,
        journal_verify,
        journal_export,
        birth_communes,
        birth_countries,
        counter_lookup,
        token_banners,
        particulier_token_compromised,
        poster_studio,
        poster_listing,
        poster_preview,
        poster_open,
        poster_save,
        poster_save_as,
        poster_qr_save,
        poster_texts,
        poster_logo_set,
        family_search,
        family_open,
        family_change,
        family_paper_check,
        families_pending,
        family_settle,
        family_save_counter,
        letters_recipients,
        letters_preview,
        letters_open,
        letters_save_as,
        family_attestation_open,
        family_attestation_save_as,
        families_export_columns,
        families_export,
        families_export_as,
        tariff_grids,
        tariff_grid_check,
        tariff_grid_save,
        tariff_grid_delete,
        family_tariffs,
        qf_tariffs,
        tariff_distribution,
    ]
}

#[tauri::command]
async fn app_status(shell: State<'_, Shell>) -> Reply<AppStatus> {
    shell.status(Timestamp::now()).map_err(ipc)
}

/// « À propos »: for anyone who sees the window, locked or not, even on the recovery screen,
/// because it holds nothing private (see `support`).
#[tauri::command]
async fn about(shell: State<'_, Shell>) -> Reply<crate::support::About> {
    Ok(shell.about())
}

/// The page drew its first screen: the time since the process started goes to the log, once.
#[tauri::command]
fn window_painted(shell: State<'_, Shell>) {
    shell.log_first_paint();
}

#[tauri::command]
async fn first_run_complete(shell: State<'_, Shell>, input: FirstRun) -> Reply<AppStatus> {
    let now = Timestamp::now();
    let run = || -> Result<AppStatus> {
        let store = shell.store()?;
        let done = setup::complete(&store, shell.keystore.as_ref(), input, now)?;
        setup::daily_backup(&store, now);
        *lock(&shell.key) = Some(done.key);
        *lock(&shell.desk) = Some(DeskSession::for_agent(done.agent, now));
        shell.status(now)
    };
    run().map_err(ipc)
}

/// From the first-run wizard: no session yet, and the demonstration opens its own.
#[tauri::command]
async fn demo_start(app: tauri::AppHandle, shell: State<'_, Shell>) -> Reply<AppStatus> {
    shell.start_demo(&app, Timestamp::now()).await.map_err(ipc)
}

#[tauri::command]
async fn demo_stop(shell: State<'_, Shell>) -> Reply<AppStatus> {
    shell.stop_demo(Timestamp::now()).await.map_err(ipc)
}

/// Pure validation, so no session: the first-run wizard checks each step before the next.
#[tauri::command]
async fn commune_check(commune: NewCommune) -> Reply<()> {
    communes::check(&commune).map_err(ipc)
}

#[tauri::command]
async fn agent_check(agent: NewAgent) -> Reply<()> {
    agents::check(&agent).map_err(ipc)
}

#[tauri::command]
async fn agents_list(shell: State<'_, Shell>) -> Reply<Vec<Agent>> {
    let run = || shell.store()?.read(agents::list);
    run().map_err(ipc)
}

#[tauri::command]
async fn session_open(shell: State<'_, Shell>, agent_id: i64, pin: String) -> Reply<AppStatus> {
    let now = Timestamp::now();
    let run = || -> Result<AppStatus> {
        let session = DeskSession::open(&*shell.store()?, agent_id, &pin, now)?;
        *lock(&shell.desk) = Some(session);
        shell.status(now)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn session_lock(shell: State<'_, Shell>) -> Reply<AppStatus> {
    *lock(&shell.desk) = None;
    shell.status(Timestamp::now()).map_err(ipc)
}

#[tauri::command]
async fn session_touch(shell: State<'_, Shell>) -> Reply<()> {
    shell.agent(Timestamp::now()).map(|_| ()).map_err(ipc)
}

#[tauri::command]
async fn communes_list(shell: State<'_, Shell>) -> Reply<Vec<Commune>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(communes::list)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn commune_add(shell: State<'_, Shell>, commune: NewCommune) -> Reply<Commune> {
    let now = Timestamp::now();
    let run = || {
        shell.administrator(now)?;
        communes::add(&*shell.store()?, &commune, now)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn commune_update(shell: State<'_, Shell>, id: i64, commune: NewCommune) -> Reply<Commune> {
    let run = || {
        shell.administrator(Timestamp::now())?;
        communes::update(&*shell.store()?, id, &commune)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn commune_delete(shell: State<'_, Shell>, id: i64) -> Reply<()> {
    let now = Timestamp::now();
    let run = || {
        shell.administrator(now)?;
        communes::delete(&*shell.store()?, id, now)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn agent_add(shell: State<'_, Shell>, agent: NewAgent) -> Reply<Agent> {
    let now = Timestamp::now();
    let run = || {
        shell.administrator(now)?;
        agents::add(&*shell.store()?, &agent, now)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn agent_set_active(shell: State<'_, Shell>, id: i64, active: bool) -> Reply<Agent> {
    let run = || {
        shell.administrator(Timestamp::now())?;
        agents::set_active(&*shell.store()?, id, active)
    };
    run().map_err(ipc)
}

/// An administrator may reset anyone's PIN; an agent only their own.
#[tauri::command]
async fn agent_change_pin(shell: State<'_, Shell>, id: i64, pin: String) -> Reply<Agent> {
    let run = || {
        let agent = shell.agent(Timestamp::now())?;
        if agent.id != id {
            crate::desk::require_administrator(&agent)?;
        }
        agents::change_pin(&*shell.store()?, id, &pin)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn secrets_status(shell: State<'_, Shell>, commune_id: i64) -> Reply<Vec<SecretStatus>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell
            .store()?
            .read(|conn| vault::statuses(conn, commune_id))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn secret_set(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    commune_id: i64,
    kind: SecretKind,
    value: String,
) -> Reply<SecretStatus> {
    let now = Timestamp::now();
    let value = SecretString::from(value);
    let run = || {
        shell.administrator(now)?;
        vault::set(
            &*shell.store()?,
            &shell.key()?,
            commune_id,
            kind,
            &value,
            now,
        )
    };
    let saved = run().map_err(ipc)?;
    if kind == SecretKind::ParticulierToken {
        // A new token is checked at once, in the background: its expiry feeds the banners.
        tauri::async_runtime::spawn(async move {
            use tauri::Manager;
            let shell = app.state::<Shell>();
            shell.check_particulier_token(&app, commune_id, now).await;
        });
    }
    Ok(saved)
}

#[tauri::command]
async fn secret_delete(
    shell: State<'_, Shell>,
    commune_id: i64,
    kind: SecretKind,
) -> Reply<SecretStatus> {
    let now = Timestamp::now();
    let run = || {
        shell.administrator(now)?;
        let store = shell.store()?;
        let status = vault::delete(&store, commune_id, kind, now)?;
        if kind == SecretKind::ParticulierToken {
            store.write(|tx| crate::particulier::token::forget(tx, commune_id))?;
        }
        Ok(status)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn vault_unlock(shell: State<'_, Shell>, passphrase: String) -> Reply<VaultStatus> {
    let passphrase = SecretString::from(passphrase);
    let run = || -> Result<VaultStatus> {
        shell.agent(Timestamp::now())?;
        let store = shell.store()?;
        let key = vault::unlock_with_passphrase(&store, &passphrase)?;
        *lock(&shell.key) = Some(key.clone());
        store.read(|conn| vault::status(conn, shell.keystore_available, Some(&key)))
    };
    run().map_err(ipc)
}

/// Works without a session when the database is unavailable: the recovery screen needs it.
/// Lists the backups of the database in use (the demonstration has its own).
#[tauri::command]
async fn backups_list(shell: State<'_, Shell>) -> Reply<Vec<BackupInfo>> {
    match shell.store() {
        Ok(store) => backup::list(&store),
        Err(_) => backup::list_in(&backup::dir_for(&shell.launch.database_path())),
    }
    .map_err(ipc)
}

#[tauri::command]
async fn backup_create(shell: State<'_, Shell>) -> Reply<BackupInfo> {
    let now = Timestamp::now();
    let run = || {
        shell.agent(now)?;
        backup::create(&*shell.store()?, backup::BackupKind::Manual, now)
    };
    run().map_err(ipc)
}

/// Over a working database: administrators only, and the desk locks afterwards since agents
/// and keys may differ in the restored data. Over a damaged one: from the recovery screen.
#[tauri::command]
async fn backup_restore(shell: State<'_, Shell>, name: String) -> Reply<AppStatus> {
    let now = Timestamp::now();
    let run = || -> Result<AppStatus> {
        match shell.store() {
            Ok(store) => {
                shell.administrator(now)?;
                backup::restore(&store, &name, now)?;
                shell.after_open(&store, now);
            }
            Err(_) => {
                let store = backup::restore_over_damaged(&shell.launch.data_dir, &name, now)?;
                shell.after_open(&store, now);
                *shell.store.write().unwrap_or_else(|p| p.into_inner()) =
                    StoreSlot::Ready(std::sync::Arc::new(store));
            }
        }
        *lock(&shell.desk) = None;
        shell.status(now)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn settings_get(shell: State<'_, Shell>) -> Reply<Settings> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(settings::get)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn settings_update(shell: State<'_, Shell>, settings: Settings) -> Reply<Settings> {
    let run = || {
        shell.administrator(Timestamp::now())?;
        settings::update(&*shell.store()?, &settings)
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// Retention (`retention`). Any agent at the desk may read the limits, simulate the purge and
// read the past purges; changing the limits and purging are for an administrator. The export
// folder cleaned is the Documents folder the window writes its exports to.
// ----------------------------------------------------------------------------------------------

/// The network settings (Paramètres › Réseau et proxy): any agent may read them, never the
/// proxy password.
#[tauri::command]
async fn network_get(shell: State<'_, Shell>) -> Reply<NetworkView> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(network::view)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn network_save(shell: State<'_, Shell>, change: NetworkChange) -> Reply<NetworkView> {
    let now = Timestamp::now();
    let run = async {
        shell.administrator(now)?;
        let key = shell.key().ok();
        let store = shell.store()?;
        network::save_fetching_pac(
            &store,
            key.as_ref(),
            change,
            now,
            network::pac::FETCH_TIMEOUT,
        )
        .await
    };
    run.await.map_err(ipc)
}

/// "Tester la connexion" for `commune_id`, through the saved network.
#[tauri::command]
async fn network_check(shell: State<'_, Shell>, commune_id: i64) -> Reply<ConnectionReport> {
    let run = async {
        shell.agent(Timestamp::now())?;
        let store = shell.store()?;
        let commune = store.read(|conn| communes::get(conn, commune_id))?;
        let urls = shell.service_urls(&commune)?;
        let key = shell.key().ok();
        network_check::check_commune(
            &store,
            key.as_ref(),
            &commune,
            &urls,
            network_check::DEFAULT_TIMEOUT,
            Timestamp::now(),
        )
        .await
    };
    run.await.map_err(ipc)
}

#[tauri::command]
async fn retention_get(shell: State<'_, Shell>) -> Reply<Retention> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(retention::get)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn retention_save(shell: State<'_, Shell>, retention: Retention) -> Reply<Retention> {
    let run = || {
        shell.administrator(Timestamp::now())?;
        retention::save(&*shell.store()?, &retention)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn retention_preview(shell: State<'_, Shell>) -> Reply<PurgeReport> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| retention::preview(conn, today, now, Some(&shell.launch.documents_dir)))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn retention_purge(shell: State<'_, Shell>) -> Reply<PurgeReport> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        let agent = shell.administrator(now)?;
        retention::purge_saved(
            &*shell.store()?,
            &agent.name,
            now,
            today,
            Some(&shell.launch.documents_dir),
        )
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn purges_list(shell: State<'_, Shell>) -> Reply<Vec<PurgeReport>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(retention::list)
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// The commune's RGPD settings and documents (`rgpd`): any agent reads the settings and makes the
// documents (register entry, notice, bordereau of a purge), which hold no personal data;
// saving the settings is for an administrator. "Today" in the install's time zone.
// ----------------------------------------------------------------------------------------------

#[tauri::command]
async fn rgpd_settings_get(shell: State<'_, Shell>, commune_id: i64) -> Reply<RgpdView> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| rgpd::view(conn, commune_id, today))
    };
    run().map_err(ipc)
}

/// Every field's problem and the warnings of the settings being typed (nothing stored).
#[tauri::command]
async fn rgpd_settings_check(shell: State<'_, Shell>, settings: RgpdSettings) -> Reply<RgpdCheck> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        Ok(rgpd::check(&settings, today))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn rgpd_settings_save(
    shell: State<'_, Shell>,
    commune_id: i64,
    settings: RgpdSettings,
) -> Reply<RgpdView> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        let agent = shell.administrator(now)?;
        rgpd::save(
            &*shell.store()?,
            commune_id,
            &settings,
            &agent.name,
            now,
            today,
        )
    };
    run().map_err(ipc)
}

/// The document in the system's viewer (PDF) or text editor (texte).
#[tauri::command]
async fn rgpd_document_open(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    document: rgpd::Which,
    format: rgpd::Format,
) -> Reply<Printed> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || -> Result<Printed> {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let dir = shell.viewer_dir();
        let printed = rgpd::write_document(
            &store,
            document,
            format,
            studio::Destination::NewFileIn(&dir),
            Some(&agent.name),
            &shell.launch.time_zone,
            now,
            today,
        )?
        .ok_or_else(no_file_written)?;
        open_pdf(&app, &printed)?;
        Ok(printed)
    };
    run().map_err(ipc)
}

/// "Enregistrer sous…": the document where the agent chooses; `None` when cancelled.
#[tauri::command]
async fn rgpd_document_save_as(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    document: rgpd::Which,
    format: rgpd::Format,
) -> Reply<Option<Printed>> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let choose = |suggested: &std::path::Path| match format {
            rgpd::Format::Pdf => choose_pdf(&app, "Enregistrer le document", suggested),
            rgpd::Format::Texte => choose_file(
                &app,
                "Enregistrer le document",
                suggested,
                ("Texte modifiable", "txt"),
            ),
        };
        rgpd::write_document(
            &store,
            document,
            format,
            studio::Destination::Chosen {
                suggested_in: &shell.launch.documents_dir,
                choose: Box::new(choose),
            },
            Some(&agent.name),
            &shell.launch.time_zone,
            now,
            today,
        )
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn inbox_search(shell: State<'_, Shell>, query: InboxQuery) -> Reply<InboxPage> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(|conn| inbox::search(conn, &query))
    };
    run().map_err(ipc)
}

/// The badge: no session check, so that the count stays right behind the lock screen too, and
/// a count is not personal data.
#[tauri::command]
async fn inbox_new_count(shell: State<'_, Shell>) -> Reply<u32> {
    shell
        .store()
        .and_then(|store| store.read(inbox::new_count))
        .map_err(ipc)
}

#[tauri::command]
async fn dossier_open(shell: State<'_, Shell>, id: i64) -> Reply<DossierDetail> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let reader = inbox::Reader { agent: agent.name };
        inbox::open(&*shell.store()?, id, &reader, now)
    };
    run().map_err(ipc)
}

/// Opens a dossier's file (the PDF, usually) in the system's viewer.
#[tauri::command]
async fn dossier_file_open(app: tauri::AppHandle, shell: State<'_, Shell>, id: i64) -> Reply<()> {
    let run = || -> Result<()> {
        shell.agent(Timestamp::now())?;
        let store = shell.store()?;
        let (content, reference) = store.read(|conn| {
            let dossier = crate::dossiers::get(conn, inbox::file_dossier(conn, id)?)?;
            Ok((inbox::file(conn, id)?, dossier.reference))
        })?;
        let path = inbox::write_for_viewer(&shell.viewer_dir(), reference.as_deref(), &content)?;
        use tauri_plugin_opener::OpenerExt;
        app.opener()
            .open_path(path.to_string_lossy(), None::<&str>)
            .map_err(|error| {
                crate::error::Error::new(
                    crate::error::Code::Internal,
                    "Aucune application ne s'est ouverte pour afficher ce fichier : vérifiez \
                     qu'un lecteur de PDF est installé sur ce poste.",
                )
                .with_source(error)
            })
    };
    run().map_err(ipc)
}

/// "Traité" or "Refusé": Hubee is told first, then the decision is recorded.
#[tauri::command]
async fn dossier_decide(
    shell: State<'_, Shell>,
    id: i64,
    refus: Option<String>,
) -> Reply<DossierDetail> {
    let now = Timestamp::now();
    let decision = match refus {
        Some(message) => Decision::Refuse { message },
        None => Decision::Traite,
    };
    let run = async {
        shell.agent(now)?;
        let store = shell.store()?;
        let dossier = store.read(|conn| crate::dossiers::get(conn, id))?;
        let commune = store.read(|conn| communes::get(conn, dossier.commune_id))?;
        let client = shell.hubee_client(&store, &commune)?;
        crate::sync::close_dossier(&store, &client, id, &decision, now).await?;
        store.read(|conn| inbox::detail(conn, id))
    };
    run.await.map_err(ipc)
}

#[tauri::command]
async fn sync_states(shell: State<'_, Shell>) -> Reply<Vec<SyncState>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.poller.states(&shell)
    };
    run().map_err(ipc)
}

/// "Relever maintenant".
#[tauri::command]
async fn sync_now(shell: State<'_, Shell>) -> Reply<()> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.poller.request();
        Ok(())
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// The QF refresh (`refresh`): the run goes on in the window's loop (`refresher.rs`), its progress
// as `refresh-state` events; nothing reaches the family file before an agent clicks "Appliquer".
// ----------------------------------------------------------------------------------------------

#[tauri::command]
async fn refresh_state(
    shell: State<'_, Shell>,
    commune_id: i64,
) -> Reply<super::refresher::RefreshView> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.refresher.view(&shell, commune_id)
    };
    run().map_err(ipc)
}

/// "Actualiser maintenant" (or "Reprendre" an interrupted run).
#[tauri::command]
async fn refresh_now(shell: State<'_, Shell>, commune_id: i64) -> Reply<()> {
    let run = || {
        let agent = shell.agent(Timestamp::now())?;
        shell.refresher.request(commune_id, agent.name);
        Ok(())
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn refresh_preview(shell: State<'_, Shell>, run_id: i64) -> Reply<crate::refresh::Preview> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| crate::refresh::preview(conn, run_id, today))
    };
    run().map_err(ipc)
}

/// "Appliquer": the changed QFs into the family file, in the agent's name.
#[tauri::command]
async fn refresh_apply(shell: State<'_, Shell>, run_id: i64) -> Reply<u32> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let written = shell
            .store()?
            .write(|tx| crate::refresh::apply(tx, run_id, &agent.name, now))?;
        Ok(u32::try_from(written).unwrap_or(u32::MAX))
    };
    run().map_err(ipc)
}

/// The commune's schedule, set by an administrator.
#[tauri::command]
async fn refresh_schedule_set(
    shell: State<'_, Shell>,
    commune_id: i64,
    schedule: crate::refresh::Schedule,
) -> Reply<()> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.administrator(now)?;
        shell
            .store()?
            .write(|tx| crate::refresh::set_schedule(tx, commune_id, &schedule, &agent.name, now))
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// The access journal (`journal.rs`). Any agent at the desk may read and verify it; exporting it,
// which takes personal data out of the application, is for an administrator. The export goes to
// the user's Documents folder under a new name, and is journaled itself.
// ----------------------------------------------------------------------------------------------

#[tauri::command]
async fn journal_list(shell: State<'_, Shell>, filter: journal::Filter) -> Reply<journal::Page> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell
            .store()?
            .read(|conn| journal::page(conn, &filter, &shell.launch.time_zone))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn journal_verify(shell: State<'_, Shell>) -> Reply<journal::Verification> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(journal::verify)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn journal_export(
    shell: State<'_, Shell>,
    filter: journal::Filter,
) -> Reply<journal::Exported> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.administrator(now)?;
        let tz = &shell.launch.time_zone;
        let path = journal::export_path(&shell.launch.documents_dir, now, tz);
        journal::export_file(&*shell.store()?, &filter, &path, &agent.name, tz, now)
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// Places of birth for the counter form (`places.rs`): offline lists, no personal data.
// ----------------------------------------------------------------------------------------------

/// How many suggestions the pickers show.
const PLACE_SUGGESTIONS: usize = 12;

#[tauri::command]
async fn birth_communes(
    shell: State<'_, Shell>,
    query: String,
) -> Reply<Vec<crate::places::CommuneOfBirth>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        Ok(crate::places::search_communes(&query, PLACE_SUGGESTIONS))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn birth_countries(
    shell: State<'_, Shell>,
    query: String,
) -> Reply<Vec<crate::places::CountryOfBirth>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        Ok(crate::places::search_countries(&query, PLACE_SUGGESTIONS)
            .into_iter()
            // France is the other choice of the form, not a foreign country.
            .filter(|country| country.cog != crate::places::FRANCE_COG)
            .collect())
    };
    run().map_err(ipc)
}

/// "Consulter le quotient familial" at the counter; the call is journaled by the domain.
#[tauri::command]
async fn counter_lookup(
    shell: State<'_, Shell>,
    request: crate::particulier::counter::CounterRequest,
) -> Reply<crate::particulier::counter::CounterResult> {
    let now = Timestamp::now();
    let run = async {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let commune = store.read(|conn| communes::get(conn, request.commune_id))?;
        let client = shell.particulier_client(&store, &commune)?;
        let today = now.to_zoned(shell.launch.time_zone.clone()).date();
        crate::particulier::counter::lookup_at_counter(
            &store,
            &client,
            &commune,
            &agent.name,
            &request,
            today,
            now,
        )
        .await
        .map_err(crate::error::Error::from)
    };
    run.await.map_err(ipc)
}

/// The token guardian's warnings, most urgent first.
#[tauri::command]
async fn token_banners(
    shell: State<'_, Shell>,
) -> Reply<Vec<crate::particulier::token::TokenBanner>> {
    let now = Timestamp::now();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| crate::particulier::token::banners(conn, now))
    };
    run().map_err(ipc)
}

/// "Jeton compromis": the token leaves the vault (journaled), then the e-mail to API
/// Particulier's support opens in the mail program, when the PC has one.
#[tauri::command]
async fn particulier_token_compromised(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    commune_id: i64,
) -> Reply<crate::particulier::compromised::CompromiseReport> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let commune = store.read(|conn| communes::get(conn, commune_id))?;
        crate::particulier::compromised::declare(
            &store,
            &commune,
            &agent.name,
            &shell.launch.time_zone,
            now,
        )
    };
    let mut report = run().map_err(ipc)?;
    use tauri_plugin_opener::OpenerExt;
    report.mail_opened = app
        .opener()
        .open_url(&report.mailto, None::<&str>)
        .inspect_err(|error| tracing::warn!(%error, "no mail program took the report"))
        .is_ok();
    Ok(report)
}

// ----------------------------------------------------------------------------------------------
// The Affiche screen (`poster::studio`). Every file made is journaled by the domain; the PDF to
// print goes to the viewer folder and opens in the system's viewer, saved files go to the
// Documents folder under a new name that the screen shows.
// ----------------------------------------------------------------------------------------------

#[tauri::command]
async fn poster_studio(shell: State<'_, Shell>, commune_id: i64) -> Reply<PosterStudio> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell.store()?.read(|conn| studio::load(conn, commune_id))
    };
    run().map_err(ipc)
}

/// Whether the national form is open for the commune (its public list, read now).
#[tauri::command]
async fn poster_listing(shell: State<'_, Shell>, commune_id: i64) -> Reply<ListingStatus> {
    let run = async {
        shell.agent(Timestamp::now())?;
        let commune = shell
            .store()?
            .read(|conn| communes::get(conn, commune_id))?;
        let store = shell.store()?;
        let network = shell.network(&store)?;
        let listing = crate::poster::check_listed(
            &network,
            &shell.launch.formulaire_url,
            &commune.siret,
            std::time::Duration::from_secs(8),
        )
        .await;
        Ok(listing.status(&commune.siret))
    };
    run.await.map_err(ipc)
}

#[tauri::command]
async fn poster_preview(
    shell: State<'_, Shell>,
    commune_id: i64,
    format: Format,
    settings: PosterSettings,
) -> Reply<PosterPreview> {
    let now = Timestamp::now();
    let run = || {
        shell.agent(now)?;
        let store = shell.store()?;
        studio::update(
            &store,
            commune_id,
            format,
            &settings,
            studio::PREVIEW_WIDTH,
            now,
        )
    };
    run().map_err(ipc)
}

/// "Ouvrir le PDF / Imprimer": the poster in the system's viewer, which prints it.
#[tauri::command]
async fn poster_open(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    commune_id: i64,
    format: Format,
    settings: PosterSettings,
) -> Reply<Printed> {
    let now = Timestamp::now();
    let run = || -> Result<Printed> {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let dir = shell.viewer_dir();
        let printed = studio::save_poster(
            &store,
            commune_id,
            format,
            &settings,
            studio::Destination::NewFileIn(&dir),
            &agent.name,
            now,
        )?
        .ok_or_else(no_file_written)?;
        open_pdf(&app, &printed)?;
        Ok(printed)
    };
    run().map_err(ipc)
}

/// Opens a PDF just written in the system's viewer, which prints it.
fn open_pdf(app: &tauri::AppHandle, printed: &Printed) -> Result<()> {
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_path(printed.path.clone(), None::<&str>)
        .map_err(|error| {
            crate::error::Error::new(
                crate::error::Code::Internal,
                "Aucune application ne s'est ouverte pour afficher le PDF : vérifiez qu'un \
                 lecteur de PDF est installé sur ce poste, ou utilisez « Enregistrer sous… ».",
            )
            .with_source(error)
        })
}

/// The system's "save as" dialog for a PDF, opened on `suggested`; `None` when cancelled.
fn choose_pdf(
    app: &tauri::AppHandle,
    title: &str,
    suggested: &std::path::Path,
) -> Option<std::path::PathBuf> {
    choose_file(app, title, suggested, ("Document PDF", "pdf"))
}

/// The system's "save as" dialog for one kind of file (`filter`: its name and extension),
/// opened on `suggested`; `None` when cancelled.
fn choose_file(
    app: &tauri::AppHandle,
    title: &str,
    suggested: &std::path::Path,
    filter: (&str, &str),
) -> Option<std::path::PathBuf> {
    use tauri_plugin_dialog::DialogExt;
    let mut dialog = app
        .dialog()
        .file()
        .set_title(title)
        .add_filter(filter.0, &[filter.1]);
    if let Some(folder) = suggested.parent() {
        dialog = dialog.set_directory(folder);
    }
    if let Some(name) = suggested.file_name() {
        dialog = dialog.set_file_name(name.to_string_lossy());
    }
    dialog
        .blocking_save_file()
        .and_then(|chosen| chosen.into_path().ok())
}

/// "Enregistrer": the poster in the Documents folder.
#[tauri::command]
async fn poster_save(
    shell: State<'_, Shell>,
    commune_id: i64,
    format: Format,
    settings: PosterSettings,
) -> Reply<Printed> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let dir = &shell.launch.documents_dir;
        studio::save_poster(
            &store,
            commune_id,
            format,
            &settings,
            studio::Destination::NewFileIn(dir),
            &agent.name,
            now,
        )?
        .ok_or_else(no_file_written)
    };
    run().map_err(ipc)
}

/// A new file in a folder needs no choice, so it is always written; should that change, the
/// agent reads this rather than the window breaking.
fn no_file_written() -> crate::error::Error {
    crate::error::Error::new(
        crate::error::Code::Internal,
        "Le fichier n'a pas été écrit. Réessayez avec « Enregistrer sous… ».",
    )
}

/// "Enregistrer sous…": the poster where the agent chooses, in the system's save dialog.
/// `None` when the agent cancelled.
#[tauri::command]
async fn poster_save_as(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    commune_id: i64,
    format: Format,
    settings: PosterSettings,
) -> Reply<Option<Printed>> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let choose =
            |suggested: &std::path::Path| choose_pdf(&app, "Enregistrer l'affiche", suggested);
        studio::save_poster(
            &store,
            commune_id,
            format,
            &settings,
            studio::Destination::Chosen {
                suggested_in: &shell.launch.documents_dir,
                choose: Box::new(choose),
            },
            &agent.name,
            now,
        )
    };
    run().map_err(ipc)
}

/// The QR code alone (PNG or SVG) in the Documents folder.
#[tauri::command]
async fn poster_qr_save(shell: State<'_, Shell>, commune_id: i64, kind: QrKind) -> Reply<Printed> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        studio::save_qr(
            &store,
            commune_id,
            kind,
            &shell.launch.documents_dir,
            &agent.name,
            now,
        )
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn poster_texts(
    shell: State<'_, Shell>,
    commune_id: i64,
    settings: PosterSettings,
) -> Reply<KitTexts> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell
            .store()?
            .read(|conn| studio::commune_texts(conn, commune_id, &settings))
    };
    run().map_err(ipc)
}

/// The commune's logo: the chosen file in base64, or `null` to remove it.
#[tauri::command]
async fn poster_logo_set(
    shell: State<'_, Shell>,
    commune_id: i64,
    logo: Option<String>,
) -> Reply<Option<LogoInfo>> {
    let now = Timestamp::now();
    let run = || {
        shell.agent(now)?;
        studio::set_logo(&*shell.store()?, commune_id, logo.as_deref(), now)
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// The family file (`families/`). Searching and the lists show names only; opening a family is
// the access the journal records, in the domain's transaction. New families draw their code
// from the thread's generator, seeded by the operating system.
// ----------------------------------------------------------------------------------------------

#[tauri::command]
async fn family_search(
    shell: State<'_, Shell>,
    commune_id: i64,
    query: String,
) -> Reply<Vec<FamilySummary>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell
            .store()?
            .read(|conn| families::search(conn, commune_id, &query))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn family_open(shell: State<'_, Shell>, id: i64) -> Reply<FamilyView> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        shell
            .store()?
            .write(|tx| families_view::open(tx, id, &agent.name, now))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn family_change(
    shell: State<'_, Shell>,
    id: i64,
    change: FamilyChange,
) -> Reply<FamilyView> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let today = now.to_zoned(shell.launch.time_zone.clone()).date();
        shell
            .store()?
            .write(|tx| families_view::change(tx, id, &change, &agent.name, today, now))
    };
    run().map_err(ipc)
}

/// Pure validation, so that the form shows every field's message at once.
#[tauri::command]
async fn family_paper_check(
    shell: State<'_, Shell>,
    paper: PaperAttestation,
) -> Reply<Vec<PaperProblem>> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    Ok(families::paper_problems(&paper, today))
}

#[tauri::command]
async fn families_pending(
    shell: State<'_, Shell>,
    commune_id: i64,
) -> Reply<Vec<families_view::PendingDossier>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell
            .store()?
            .read(|conn| families_view::pending(conn, commune_id))
    };
    run().map_err(ipc)
}

/// "Rattacher à…" (`family_id`) or "Créer une nouvelle famille" (none): the family's id.
#[tauri::command]
async fn family_settle(
    shell: State<'_, Shell>,
    dossier_id: i64,
    family_id: Option<i64>,
) -> Reply<i64> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        shell.store()?.write(|tx| {
            families_view::settle(
                tx,
                dossier_id,
                family_id,
                &agent.name,
                now,
                &mut rand::rng(),
            )
        })
    };
    run().map_err(ipc)
}

/// "Enregistrer dans le dossier famille" on the counter card: the identity typed and the card
/// the lookup gave, sent back as they are.
#[tauri::command]
async fn family_save_counter(
    shell: State<'_, Shell>,
    commune_id: i64,
    identite: crate::particulier::identity::IdentityInput,
    result: crate::particulier::counter::CounterResult,
    destination: families::Destination,
) -> Reply<CounterSaved> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let today = now.to_zoned(shell.launch.time_zone.clone()).date();
        let record = families::CounterRecord {
            commune_id,
            identity: &identite,
            result: &result,
            destination,
        };
        shell.store()?.write(|tx| {
            families_view::record_counter(tx, &record, &agent.name, today, now, &mut rand::rng())
        })
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// Personal letters (issue 7): the families chosen, the first letter previewed, the mailing
// opened for printing or saved where the agent chooses; every file made is journaled.
// ----------------------------------------------------------------------------------------------

#[tauri::command]
async fn letters_recipients(
    shell: State<'_, Shell>,
    commune_id: i64,
    selection: mailing::Selection,
) -> Reply<Vec<mailing::Recipient>> {
    let now = Timestamp::now();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| mailing::recipients(conn, commune_id, &selection))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn letters_preview(
    shell: State<'_, Shell>,
    commune_id: i64,
    selection: mailing::Selection,
) -> Reply<mailing::LettersPreview> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        shell.store()?.read(|conn| {
            mailing::preview(conn, commune_id, &selection, studio::PREVIEW_WIDTH, today)
        })
    };
    run().map_err(ipc)
}

/// "Ouvrir le PDF / Imprimer": the mailing in the system's viewer.
#[tauri::command]
async fn letters_open(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    commune_id: i64,
    selection: mailing::Selection,
) -> Reply<Printed> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || -> Result<Printed> {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let dir = shell.viewer_dir();
        let printed = mailing::print_letters(
            &store,
            commune_id,
            &selection,
            studio::Destination::NewFileIn(&dir),
            &agent.name,
            now,
            today,
        )?
        .ok_or_else(no_file_written)?;
        open_pdf(&app, &printed)?;
        Ok(printed)
    };
    run().map_err(ipc)
}

/// "Enregistrer sous…": the mailing where the agent chooses; `None` when cancelled.
#[tauri::command]
async fn letters_save_as(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    commune_id: i64,
    selection: mailing::Selection,
) -> Reply<Option<Printed>> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let choose =
            |suggested: &std::path::Path| choose_pdf(&app, "Enregistrer les lettres", suggested);
        mailing::print_letters(
            &store,
            commune_id,
            &selection,
            studio::Destination::Chosen {
                suggested_in: &shell.launch.documents_dir,
                choose: Box::new(choose),
            },
            &agent.name,
            now,
            today,
        )
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// A family's attestation of its QF (issue 8): opened for printing or saved where the agent
// chooses; every file made is journaled.
// ----------------------------------------------------------------------------------------------

/// "Attestation de QF": the family's attestation in the system's viewer, signed with the
/// initials of the agent at the desk.
#[tauri::command]
async fn family_attestation_open(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    family_id: i64,
) -> Reply<Printed> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || -> Result<Printed> {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let dir = shell.viewer_dir();
        let printed = families_attestation::print_attestation(
            &store,
            family_id,
            studio::Destination::NewFileIn(&dir),
            Some(&agent.name),
            now,
            today,
        )?
        .ok_or_else(no_file_written)?;
        open_pdf(&app, &printed)?;
        Ok(printed)
    };
    run().map_err(ipc)
}

/// "Enregistrer sous…": the attestation where the agent chooses; `None` when cancelled.
#[tauri::command]
async fn family_attestation_save_as(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    family_id: i64,
) -> Reply<Option<Printed>> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        let agent = shell.agent(now)?;
        let store = shell.store()?;
        let choose = |suggested: &std::path::Path| {
            choose_pdf(&app, "Enregistrer l'attestation de QF", suggested)
        };
        families_attestation::print_attestation(
            &store,
            family_id,
            studio::Destination::Chosen {
                suggested_in: &shell.launch.documents_dir,
                choose: Box::new(choose),
            },
            Some(&agent.name),
            now,
            today,
        )
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// The families' CSV for the billing tool (`families::export`): personal data, journaled.
// ----------------------------------------------------------------------------------------------

/// The columns the agent may pick, with their headers, in the default order.
#[tauri::command]
async fn families_export_columns(
    shell: State<'_, Shell>,
) -> Reply<Vec<families_export::ColumnChoice>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        Ok(families_export::choices())
    };
    run().map_err(ipc)
}

/// "Exporter": the commune's families as CSV in the Documents folder.
#[tauri::command]
async fn families_export(
    shell: State<'_, Shell>,
    commune_id: i64,
    preset: families_export::Preset,
    columns: Vec<families_export::Column>,
) -> Reply<families_export::Exported> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let tz = &shell.launch.time_zone;
        let path = families_export::export_path(&shell.launch.documents_dir, now, tz);
        let request = families_export::Request {
            commune_id,
            preset,
            columns,
            day: now.to_zoned(tz.clone()).date(),
        };
        families_export::export_file(&*shell.store()?, &request, &path, &agent.name, tz, now)
    };
    run().map_err(ipc)
}

/// "Exporter sous…": the same where the agent chooses, in the system's save dialog (opened
/// before any transaction); `None` when the agent cancelled, and nothing is written nor
/// journaled then.
#[tauri::command]
async fn families_export_as(
    app: tauri::AppHandle,
    shell: State<'_, Shell>,
    commune_id: i64,
    preset: families_export::Preset,
    columns: Vec<families_export::Column>,
) -> Reply<Option<families_export::Exported>> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.agent(now)?;
        let tz = &shell.launch.time_zone;
        let suggested = families_export::export_path(&shell.launch.documents_dir, now, tz);
        let filter = ("Fichier CSV", "csv");
        let Some(chosen) = choose_file(&app, "Exporter les familles", &suggested, filter) else {
            return Ok(None);
        };
        let path = studio::with_extension(chosen, "csv");
        let request = families_export::Request {
            commune_id,
            preset,
            columns,
            day: now.to_zoned(tz.clone()).date(),
        };
        families_export::export_file(&*shell.store()?, &request, &path, &agent.name, tz, now)
            .map(Some)
    };
    run().map_err(ipc)
}

// ----------------------------------------------------------------------------------------------
// Tariff grids (`tariffs`). Any agent at the desk may read them, a family's tariffs and the
// anonymous distribution; saving and deleting a grid, which copies the council's délibération,
// is for an administrator. "Today" is the local day of the install's time zone.
// ----------------------------------------------------------------------------------------------

#[tauri::command]
async fn tariff_grids(shell: State<'_, Shell>, commune_id: i64) -> Reply<Vec<tariffs::Grid>> {
    let run = || {
        shell.agent(Timestamp::now())?;
        shell
            .store()?
            .read(|conn| tariffs::store::list(conn, commune_id))
    };
    run().map_err(ipc)
}

/// Every problem of a grid being typed (errors and warnings), for the form.
#[tauri::command]
async fn tariff_grid_check(
    shell: State<'_, Shell>,
    grid: tariffs::Grid,
) -> Reply<Vec<tariffs::Problem>> {
    let run = || -> Result<Vec<tariffs::Problem>> {
        shell.agent(Timestamp::now())?;
        Ok(tariffs::problems(&grid))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn tariff_grid_save(
    shell: State<'_, Shell>,
    commune_id: i64,
    grid: tariffs::Grid,
) -> Reply<i64> {
    let now = Timestamp::now();
    let run = || {
        let agent = shell.administrator(now)?;
        shell
            .store()?
            .write(|tx| tariffs::store::save(tx, commune_id, &grid, &agent.name, now))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn tariff_grid_delete(shell: State<'_, Shell>, commune_id: i64, id: i64) -> Reply<()> {
    let now = Timestamp::now();
    let run = || {
        shell.administrator(now)?;
        tariffs::store::remove(&*shell.store()?, commune_id, id, now)
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn family_tariffs(
    shell: State<'_, Shell>,
    family_id: i64,
) -> Reply<Vec<tariffs::store::FamilyTariff>> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| tariffs::store::family_tariffs(conn, family_id, today))
    };
    run().map_err(ipc)
}

/// A QF's tariffs before it is in a family file: a dossier's, or the counter's answer
/// (`None`: unknown, the default tariffs).
#[tauri::command]
async fn qf_tariffs(
    shell: State<'_, Shell>,
    commune_id: i64,
    qf: Option<u32>,
) -> Reply<Vec<tariffs::store::FamilyTariff>> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| tariffs::store::tariffs_on(conn, commune_id, today, qf))
    };
    run().map_err(ipc)
}

#[tauri::command]
async fn tariff_distribution(
    shell: State<'_, Shell>,
    commune_id: i64,
    service: String,
) -> Reply<tariffs::store::Distribution> {
    let now = Timestamp::now();
    let today = now.to_zoned(shell.launch.time_zone.clone()).date();
    let run = || {
        shell.agent(now)?;
        shell
            .store()?
            .read(|conn| tariffs::store::distribution(conn, commune_id, &service, today))
    };
    run().map_err(ipc)
}
