//! id_tokens before and after the signature check (`superoffice::id_token`): the header that
//! picks the key, and the SuperOffice claims read from a verified payload.

use base64::Engine;
use serde_json::Value;
use superoffice::fuzz::{claims_from, signing_kid};
use superoffice::CLAIM_NS;

/// The input as a compact JWT: only an RS256 header with a `kid` may lead to a key lookup
/// (`alg: none`, HS256 and the rest are refused with their own code); the payload segment and
/// the whole input as JSON claims: the claims the app uses are exactly the token's, or the
/// token is refused as lacking a claim.
pub fn id_token(data: &[u8]) {
    let token = String::from_utf8_lossy(data);
    let header = jsonwebtoken::decode_header(token.as_bytes());
    match signing_kid(&token) {
        Ok(kid) => {
            let h = header.unwrap_or_else(|e| panic!("a kid from a header that does not decode: {e}"));
            assert_eq!(h.alg, jsonwebtoken::Algorithm::RS256, "key lookup for {:?}", h.alg);
            assert_eq!(h.kid.as_deref(), Some(kid.as_str()));
        }
        Err(e) => {
            let expected = match &header {
                Err(_) => "id_token_malformed",
                Ok(h) if h.alg != jsonwebtoken::Algorithm::RS256 => "id_token_bad_alg",
                Ok(_) => "id_token_no_kid",
            };
            assert_eq!(e.code(), expected, "{e}");
        }
    }
    let payload =
        token.split('.').nth(1).and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok());
    for json in [payload.as_deref(), Some(data)].into_iter().flatten() {
        if let Ok(v) = serde_json::from_slice::<Value>(json) {
            claims(&v);
        }
    }
}

fn claims(v: &Value) {
    let ns = |k: &str| v.get(format!("{CLAIM_NS}{k}")).and_then(Value::as_str);
    let sub = v.get("sub").and_then(Value::as_str);
    let associate = ns("associateid").and_then(|a| a.parse::<i64>().ok());
    match claims_from(v) {
        Ok(c) => {
            assert_eq!(Some(c.subject.as_str()), sub);
            assert_eq!(Some(c.associate_id), associate);
            assert_eq!((Some(c.context_id.as_str()), Some(c.webapi_url.as_str())), (ns("ctx"), ns("webapi_url")));
            assert_eq!((c.email.as_deref(), c.company_name.as_deref()), (ns("email"), ns("company_name")));
        }
        Err(e) => {
            assert_eq!(e.code(), "id_token_missing_claim", "{e}");
            assert!(
                sub.is_none() || associate.is_none() || ns("ctx").is_none() || ns("webapi_url").is_none(),
                "refused complete claims: {e}"
            );
        }
    }
}
