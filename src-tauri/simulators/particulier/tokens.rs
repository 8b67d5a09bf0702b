//! The simulator's token table, and JWT decoding and minting.
//!
//! The real server decodes the JWT without checking its `exp`, then looks the token up by its
//! `jti` and trusts the scopes, SIRET, expiry and blacklist flag stored in its database (spec
//! §3.1). The table here plays that database, so a test can expire or blacklist a token without
//! changing the string the client holds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jiff::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The official public staging token, valid until 2036 with every scope.
pub const STAGING_TOKEN: &str = include_str!("fixtures/staging-token-default.jwt");

/// DINUM's SIRET, to which calls with the staging token are attributed (spec §10.1).
pub const DINUM_SIRET: &str = "13002526500013";

/// The shared secret of the simulator's own HS256 signatures; nothing checks them, as no client
/// can (spec §3.1), but minted tokens look like real ones.
const SIGNING_SECRET: &[u8] = b"guichet-qf simulateur API Particulier";

/// One row of the token table.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// The token exactly as clients send it after `Bearer `.
    pub jwt: String,
    pub scopes: Vec<String>,
    /// The SIRET of the habilitation holder.
    pub siret: String,
    pub issued_at: Option<Timestamp>,
    /// `None`: a token without expiry, which the real server accepts.
    pub expires_at: Option<Timestamp>,
    pub blacklisted: bool,
    /// A per-habilitation limit over 60 s, which replaces the per-second one when set.
    pub rate_limit_per_minute: Option<u32>,
}

impl TokenRecord {
    /// A record whose scopes, issue and expiry dates are read from the JWT's claims, attributed
    /// to DINUM's SIRET; `None` when the string is not a decodable JWT with a UUID `jti`.
    pub fn from_claims(jwt: &str) -> Option<TokenRecord> {
        let claims = decode_claims(jwt)?;
        jti_of(&claims)?;
        let scopes = claims["scopes"]
            .as_array()
            .map(|scopes| {
                scopes
                    .iter()
                    .filter_map(|scope| scope.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let timestamp = |claim: &str| {
            claims[claim]
                .as_i64()
                .and_then(|seconds| Timestamp::from_second(seconds).ok())
        };
        Some(TokenRecord {
            jwt: jwt.to_string(),
            scopes,
            siret: DINUM_SIRET.to_string(),
            issued_at: timestamp("iat"),
            expires_at: timestamp("exp"),
            blacklisted: false,
            rate_limit_per_minute: None,
        })
    }

    /// The key of the table: the `jti` claim, or the raw string for a token that is no JWT (it
    /// can then never be found, as the real server would not find it either).
    pub fn jti(&self) -> String {
        jti_from_jwt(&self.jwt).unwrap_or_else(|| self.jwt.clone())
    }
}

/// The claims of a JWT, without any check of the signature or the expiry.
pub fn decode_claims(jwt: &str) -> Option<Value> {
    let mut parts = jwt.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The `jti` of a JWT, when it is a UUID as the real server requires.
pub fn jti_from_jwt(jwt: &str) -> Option<String> {
    jti_of(&decode_claims(jwt)?)
}

fn jti_of(claims: &Value) -> Option<String> {
    let jti = claims["jti"].as_str()?;
    uuid::Uuid::parse_str(jti).ok()?;
    Some(jti.to_string())
}

/// A new HS256 JWT with the claims layout of the portal's tokens (spec §3.1).
pub fn mint(scopes: &[&str], issued_at: Timestamp, expires_at: Timestamp) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let header = json!({ "alg": "HS256" });
    let claims = json!({
        "uid": id,
        "jti": id,
        "scopes": scopes,
        "sub": "simulateur Guichet QF",
        "extra_info": {},
        "iat": issued_at.as_second(),
        "version": "1.0",
        "exp": expires_at.as_second(),
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = hmac_sha256(SIGNING_SECRET, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// HMAC (RFC 2104) over SHA-256, written out because `sha2` is the only hash dependency.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let inner_pad: Vec<u8> = block_key.iter().map(|byte| byte ^ 0x36).collect();
    let outer_pad: Vec<u8> = block_key.iter().map(|byte| byte ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_staging_token_claims() {
        let record = TokenRecord::from_claims(STAGING_TOKEN.trim()).unwrap();
        assert_eq!(record.jti(), "00000000-0000-0000-0000-000000000000");
        assert!(record.scopes.iter().any(|s| s == "cnaf_quotient_familial"));
        assert!(record.expires_at.unwrap() > Timestamp::from_second(2_000_000_000).unwrap());
    }

    #[test]
    fn minted_tokens_decode_to_their_claims() {
        let at = Timestamp::from_second(1_795_000_000).unwrap();
        let jwt = mint(&["cnaf_enfants"], at, at);
        let claims = decode_claims(&jwt).unwrap();
        assert_eq!(claims["scopes"], json!(["cnaf_enfants"]));
        assert_eq!(claims["uid"], claims["jti"]);
        assert!(jti_from_jwt(&jwt).is_some());
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
