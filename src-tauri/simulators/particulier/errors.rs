//! The error answers of API Particulier, with the codes, titles and details of the spec (§8).
//!
//! Clients branch on the HTTP status and log the code, and agents read the detail, so every
//! text here is copied from the spec, the official OpenAPI or the official nomenclature rather
//! than paraphrased. The content type depends on where the real server raises the error
//! (§8.4): authentication, scope, conflict and recipient errors come before the v3 controller
//! sets its JSON:API type and are plain `application/json`.

use serde_json::{json, Value};

/// The content type of successful answers and of errors raised inside the v3 controller.
pub const JSON_API: &str = "application/vnd.api+json";
/// The content type of errors raised before the v3 controller sets its own.
pub const PLAIN_JSON: &str = "application/json";

/// The provider name of the quotient familial chain, used in `meta.provider` of `35xxx` codes.
const CNAF_MSA: &str = "CNAF & MSA";

/// One error entry of a JSON:API error body, with the HTTP status it travels with.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// `None` is omitted from the body, as the real serialiser's `.compact` does.
    pub source: Option<Value>,
    pub meta: Value,
    pub content_type: &'static str,
}

impl ApiError {
    fn new(status: u16, code: &'static str, title: &'static str, detail: &str) -> ApiError {
        ApiError {
            status,
            code,
            title,
            detail: detail.to_string(),
            source: None,
            meta: json!({}),
            content_type: JSON_API,
        }
    }

    fn with_source(mut self, parameter: &str) -> ApiError {
        self.source = Some(json!({ "parameter": parameter }));
        self
    }

    fn with_meta(mut self, meta: Value) -> ApiError {
        self.meta = meta;
        self
    }

    fn plain_json(mut self) -> ApiError {
        self.content_type = PLAIN_JSON;
        self
    }

    /// The entry as it appears inside `errors[]`.
    pub fn entry(&self) -> Value {
        let mut entry = json!({
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        });
        if let Some(source) = &self.source {
            entry["source"] = source.clone();
        }
        entry["meta"] = self.meta.clone();
        entry
    }
}

/// The body of an answer that carries these errors (all of the same status).
pub fn body(errors: &[ApiError]) -> Value {
    json!({ "errors": errors.iter().map(ApiError::entry).collect::<Vec<_>>() })
}

pub fn invalid_token() -> ApiError {
    ApiError::new(
        401,
        "00101",
        "Interdit",
        "Votre token n'est pas valide ou n'est pas renseigné",
    )
    .with_source("token")
    .plain_json()
}

pub fn expired_token() -> ApiError {
    ApiError::new(
        401,
        "00103",
        "Jeton expiré",
        "Votre token est expiré. Vous devez refaire une demande à API Particulier, un guide est \
         disponible sur \
         https://particulier.api.gouv.fr/faq#comment-renouveler-mon-jeton-arrivant-a-expiration",
    )
    .with_source("token")
    .plain_json()
}

/// The habilitation's IP allow-list refuses the caller (spec §8.2; the detail text is ours, the
/// spec gives only the code, title and `source.header`).
pub fn ip_not_allowed() -> ApiError {
    let mut error = ApiError::new(
        403,
        "00107",
        "Adresse IP non autorisée",
        "L'adresse IP d'origine de l'appel n'est pas autorisée pour ce jeton : vérifiez la liste \
         des adresses IP déclarées dans votre habilitation.",
    )
    .plain_json();
    error.source = Some(serde_json::json!({ "header": "X-Forwarded-For" }));
    error
}

pub fn blacklisted_token() -> ApiError {
    ApiError::new(
        401,
        "00105",
        "Jeton sur liste noire",
        "Votre jeton est sur liste noire, celui-ci a certainement été divulgué sur un canal \
         non-sécurisé. Vous pouvez trouver un jeton valide sur votre espace personnel: \
         https://particulier.api.gouv.fr/compte",
    )
    .with_source("token")
    .plain_json()
}

pub fn insufficient_privileges() -> ApiError {
    ApiError::new(
        403,
        "00100",
        "Privilèges insuffisants",
        "Votre token est valide mais vos privilèges sont insuffisants. Listez vos privilèges sur \
         /api/introspect",
    )
    .with_source("token")
    .plain_json()
}

pub fn conflict() -> ApiError {
    ApiError::new(
        409,
        "00015",
        "Conflit",
        "Une requête associé à votre jeton est déjà en cours de traitement pour ces paramètres. \
         Veuillez attendre la fin du traitement avant d'effectuer une nouvelle requête.",
    )
    .plain_json()
}

pub fn unsupported_version(version: &str) -> ApiError {
    ApiError::new(
        404,
        "00402",
        "Version d'API non prise en charge",
        &format!("La version {version} n'est pas supportée pour cet endpoint"),
    )
    .plain_json()
}

pub fn bad_request() -> ApiError {
    ApiError::new(
        400,
        "00401",
        "Mauvaise requête",
        "Votre requête est invalide",
    )
    .plain_json()
}

pub fn too_many_requests() -> ApiError {
    ApiError::new(
        429,
        "00429",
        "Trop de requêtes",
        "Vous avez effectué trop de requêtes",
    )
    .plain_json()
}

pub fn missing_recipient() -> ApiError {
    ApiError::new(
        422,
        "00203",
        "Entité non traitable",
        "Le paramètre recipient est obligatoire",
    )
    .with_source("recipient")
    .plain_json()
}

pub fn invalid_recipient() -> ApiError {
    ApiError::new(
        422,
        "00210",
        "Entité non traitable",
        "Le paramètre recipient n'est pas un siret valide",
    )
    .with_source("recipient")
    .plain_json()
}

pub fn france_connect_token_unknown() -> ApiError {
    ApiError::new(
        401,
        "51502",
        "Accès non autorisé",
        "Le jeton d'accès n'a pas été trouvé ou est expiré.",
    )
    .with_meta(json!({ "provider": "FranceConnect" }))
    .plain_json()
}

pub fn france_connect_token_missing() -> ApiError {
    ApiError::new(
        401,
        "51504",
        "Accès non autorisé",
        "Le jeton d'accès FranceConnect est manquant. Cet endpoint requiert un jeton d'accès \
         FranceConnect transmis via l'en-tête Authorization: Bearer.",
    )
    .with_meta(json!({ "provider": "FranceConnect" }))
    .plain_json()
}

/// A parameter error of §4.1; all of them are 422 "Entité non traitable" without `source`.
fn unprocessable(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(422, code, "Entité non traitable", detail)
}

pub fn invalid_nom_naissance() -> ApiError {
    unprocessable("00420", "Le nom de naissance est manquant")
}

pub fn invalid_prenoms() -> ApiError {
    unprocessable("00367", "Le ou les prénoms sont manquants.")
}

pub fn invalid_sexe() -> ApiError {
    unprocessable("00427", "Le sexe de l'état civil est manquant")
}

pub fn invalid_date_naissance() -> ApiError {
    unprocessable(
        "00363",
        "La date de naissance n'est pas correctement formatté",
    )
}

pub fn invalid_pays() -> ApiError {
    unprocessable("00400", "Le code pays INSEE n'est pas correctement formaté")
}

pub fn invalid_commune() -> ApiError {
    unprocessable(
        "00365",
        "Le lieu de naissance n'est pas correctement formaté",
    )
}

pub fn invalid_departement() -> ApiError {
    unprocessable(
        "00428",
        "Le code cog du département de naissance est manquant ou invalide",
    )
}

pub fn invalid_annee() -> ApiError {
    unprocessable(
        "00356",
        "L'année demandée doit être l'année en cours (N), N-1 ou N-2.",
    )
}

pub fn invalid_mois() -> ApiError {
    unprocessable(
        "00354",
        "Le mois demandé est incorrect ou est dans le futur.",
    )
}

pub fn period_too_old() -> ApiError {
    unprocessable(
        "00355",
        "La période demandée est antérieure de plus de 23 mois. Le quotient familial n'est \
         disponible que pour le mois en cours et les 23 mois précédents.",
    )
}

/// What the provider chain can answer instead of a family (§8.2, §11.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderError {
    /// 502 `00501`, `meta.retry_in: 10`.
    Network,
    /// 502 `35000`.
    Internal,
    /// 502 `35001`.
    Unavailable,
    /// 502 `35008`.
    ProviderRateLimited,
    /// 502 `35999`.
    Unknown,
    /// 503 `35020`, with `meta.retry_in` when the end of the maintenance is known.
    Maintenance { retry_in: Option<u32> },
    /// 504 `35002`.
    Timeout,
    /// 404 `23003`: identified, routed to the CAF, no dossier.
    NoCnafDossier,
    /// 404 `10003`: identified, routed to the MSA, no dossier.
    NoMsaDossier,
    /// 404 `35003`: not attached to any eligible caisse.
    NotReferenced,
    /// 404 `40003`.
    NoRncpsDossier,
    /// 422 `35560`: nobody matches this identity.
    IdentityNotRecognised,
    /// 422 `35561`: the gateway refuses a civility parameter.
    CivilityRefused,
    /// 422 `35565`: the caisse refuses the period.
    PeriodRefused,
}

impl ProviderError {
    pub fn answer(self) -> ApiError {
        let chain = json!({ "provider": CNAF_MSA });
        match self {
            ProviderError::Network => ApiError::new(
                502,
                "00501",
                "Erreur réseau",
                "Problème de connexion au serveur distant. L'erreur peut venir soit du \
                 fournisseur, soit de API Entreprise. Il s'agit souvent d'une erreur temporaire.",
            )
            .with_meta(json!({ "retry_in": 10 })),
            ProviderError::Internal => ApiError::new(
                502,
                "35000",
                "Erreur interne du fournisseur de données",
                "La réponse retournée par le fournisseur de données est invalide et a été \
                 identifié comme étant une erreur interne. Si le problème persiste, consultez la \
                 page de status ou contactez nous sur le support.",
            )
            .with_meta(chain),
            ProviderError::Unavailable => ApiError::new(
                502,
                "35001",
                "Service non disponible",
                "Service du fournisseur de données temporairement indisponible ou en maintenance.",
            )
            .with_meta(chain),
            ProviderError::ProviderRateLimited => ApiError::new(
                502,
                "35008",
                "Erreur auprès du fournisseur de données : trop de requêtes",
                "Erreur de fournisseur de donnée : Trop de requêtes effectuées, veuillez \
                 réessayer plus tard.",
            )
            .with_meta(chain),
            ProviderError::Unknown => ApiError::new(
                502,
                "35999",
                "Erreur inconnue du fournisseur de données",
                "La réponse retournée par le fournisseur de données est invalide et inconnue de \
                 notre service. L'équipe technique a été notifiée de cette erreur pour \
                 investigation.",
            )
            .with_meta(chain),
            ProviderError::Maintenance { retry_in } => {
                let meta = match retry_in {
                    Some(seconds) => json!({ "provider": CNAF_MSA, "retry_in": seconds }),
                    None => chain,
                };
                ApiError::new(
                    503,
                    "35020",
                    "Maintenance du fournisseur de données",
                    "Le fournisseur de données semble être en maintenance",
                )
                .with_meta(meta)
            }
            ProviderError::Timeout => ApiError::new(
                504,
                "35002",
                "Intermédiaire hors-délai",
                "Temps d’attente d’une réponse du fournisseur de données écoulé.",
            )
            .with_meta(chain),
            ProviderError::NoCnafDossier => ApiError::new(
                404,
                "23003",
                "Dossier allocataire absent CNAF",
                "Le dossier allocataire n'a pas été trouvé auprès de la CNAF.",
            )
            .with_meta(json!({ "provider": "CNAF" })),
            ProviderError::NoMsaDossier => ApiError::new(
                404,
                "10003",
                "Dossier allocataire absent MSA",
                "Le dossier allocataire n'a pas été trouvé auprès de la MSA.",
            )
            .with_meta(json!({ "provider": "MSA" })),
            ProviderError::NotReferenced => ApiError::new(
                404,
                "35003",
                "Allocataire non référencé",
                "L'allocataire n'est pas référencé auprès des caisses éligibles",
            )
            .with_meta(chain),
            ProviderError::NoRncpsDossier => ApiError::new(
                404,
                "40003",
                "Dossier allocataire absent RNCPS",
                "Le dossier allocataire n'a pas été trouvé auprès du RNCPS.",
            )
            .with_meta(json!({ "provider": "RNCPS" })),
            ProviderError::IdentityNotRecognised => ApiError::new(
                422,
                "35560",
                "Identité non reconnue par le fournisseur de données",
                "Les paramètres d'identité fournis ne correspondent à aucune personne connue du \
                 fournisseur de données.",
            )
            .with_meta(chain),
            ProviderError::CivilityRefused => ApiError::new(
                422,
                "35561",
                "Paramètres de civilité refusés par le fournisseur de données",
                "Un ou plusieurs paramètres de civilité ont été refusés par le fournisseur de \
                 données.",
            )
            .with_meta(chain),
            ProviderError::PeriodRefused => ApiError::new(
                422,
                "35565",
                "Période refusée par le fournisseur de données",
                "La période demandée n'est pas couverte par le fournisseur de données.",
            )
            .with_meta(chain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omits_a_missing_source_and_keeps_meta() {
        let entry = invalid_annee().entry();
        assert!(entry.get("source").is_none());
        assert_eq!(entry["meta"], json!({}));
        assert_eq!(
            invalid_recipient().entry()["source"],
            json!({ "parameter": "recipient" })
        );
    }

    #[test]
    fn network_error_asks_to_retry_in_ten_seconds() {
        let answer = ProviderError::Network.answer();
        assert_eq!((answer.status, answer.code), (502, "00501"));
        assert_eq!(answer.meta, json!({ "retry_in": 10 }));
    }
}
