//! `guichet-qf simulateur` serves both simulators to an outside client: a plain HTTP client gets
//! a Hubee token, the waiting notifications, a case and one of its files, an identity lookup from
//! API Particulier, and a 429 after 20 requests in one second.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::Digest;

/// The simulator process, stopped with SIGTERM when dropped.
struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// GET with a bearer token, expecting a JSON success.
async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    bearer: &str,
    query: &[(&str, &str)],
) -> T {
    http.get(url)
        .bearer_auth(bearer)
        .query(query)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn start(dossiers: usize) -> (Running, serde_json::Value) {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guichet-qf"))
        .args(["simulateur", "--json", "--dossiers", &dossiers.to_string()])
        .env("GUICHET_QF_DATA_DIR", data.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the simulator starts");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .expect("a first line");
    let info: serde_json::Value =
        serde_json::from_str(&first_line).unwrap_or_else(|e| panic!("{e}: {first_line:?}"));
    (Running { child }, info)
}

/// The first staging fixture of the official set: QF 650 from the CNAF.
const QF_650: &[(&str, &str)] = &[
    ("codeCogInseeCommuneNaissance", "08480"),
    ("codeCogInseePaysNaissance", "99100"),
    ("sexeEtatCivil", "F"),
    ("nomNaissance", "BERNARD"),
    ("prenoms[]", "ELODIE"),
    ("anneeDateNaissance", "1990"),
    ("moisDateNaissance", "3"),
];

#[tokio::test(flavor = "multi_thread")]
async fn the_simulators_serve_an_outside_client() {
    let (mut running, info) = start(3);
    for key in [
        "auth_url",
        "api_url",
        "client_id",
        "client_secret",
        "siret",
        "cog",
    ] {
        assert!(
            info["hubee"][key].is_string(),
            "hubee.{key} missing: {info}"
        );
    }
    for key in ["url", "token"] {
        assert!(
            info["particulier"][key].is_string(),
            "particulier.{key} missing: {info}"
        );
    }
    let hubee = &info["hubee"];
    let http = reqwest::Client::new();

    // Hubee: OAuth2 client credentials, form-encoded with HTTP Basic.
    let token: serde_json::Value = http
        .post(hubee["auth_url"].as_str().unwrap())
        .basic_auth(
            hubee["client_id"].as_str().unwrap(),
            Some(hubee["client_secret"].as_str().unwrap()),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", "SI")])
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let api = format!("{}/teledossiers/v1", hubee["api_url"].as_str().unwrap());

    let notifications: Vec<serde_json::Value> =
        get_json(&http, &format!("{api}/notifications"), &bearer, &[]).await;
    assert_eq!(notifications.len(), 3, "{notifications:?}");
    let case_id = notifications[0]["caseId"].as_str().expect("caseId");

    let case: serde_json::Value =
        get_json(&http, &format!("{api}/cases/{case_id}"), &bearer, &[]).await;
    let attachments = case["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 3);
    let json_file = attachments
        .iter()
        .find(|a| a["fileName"] == "FormulaireQF.json")
        .expect("FormulaireQF.json");
    let response = http
        .get(format!(
            "{api}/cases/{case_id}/attachments/{}",
            json_file["id"].as_str().unwrap()
        ))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let digest = response
        .headers()
        .get("digest")
        .expect("digest header")
        .to_str()
        .unwrap()
        .to_string();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(
        digest,
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes))
    );
    let dossier: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON dossier");
    assert!(dossier.is_object());

    // API Particulier: an identity lookup with the printed token.
    let particulier = &info["particulier"];
    let url = format!(
        "{}/v3/dss/quotient_familial/identite",
        particulier["url"].as_str().unwrap()
    );
    let token = particulier["token"].as_str().unwrap();
    let mut query: Vec<(&str, &str)> = QF_650.to_vec();
    query.push(("recipient", hubee["siret"].as_str().unwrap()));
    let answer: serde_json::Value = get_json(&http, &url, token, &query).await;
    assert_eq!(answer["data"]["quotient_familial"]["valeur"], 650);
    assert_eq!(answer["data"]["quotient_familial"]["fournisseur"], "CNAF");

    // 20 requests per second per token. 41 requests within one second cross at most one window
    // boundary, so one window holds at least 21 of them whatever its alignment.
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..41 {
        let response = http
            .get(&url)
            .bearer_auth(token)
            .query(&query)
            .send()
            .await
            .unwrap();
        statuses.push((
            response.status().as_u16(),
            response.headers().contains_key("retry-after"),
        ));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the burst took too long to prove anything"
    );
    assert!(
        statuses
            .iter()
            .any(|(status, retry)| *status == 429 && *retry),
        "{statuses:?}"
    );

    // SIGTERM stops it cleanly.
    Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
