//! The Gmail API's `users.messages.send` with our exact MIME as `raw` ([G1], [G2]). With
//! `gmail.send`, the only scope that is not restricted ([G3], [RS]), nothing can be read back
//! ([L4]): the answer to a send is the only evidence, and when it is lost the rep decides.
//! Gmail may put its own Message-ID on the message ([G5], third-party reports); the id and
//! thread id it answers with are kept.

use base64::Engine as _;
use keychain::Secret;

use crate::{answer, Error, Result};

/// Gmail's answer to a send ([G4]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub id: String,
    pub thread_id: Option<String>,
    pub labels: Vec<String>,
}

/// `POST /users/me/messages/send` with `{"raw": base64url(mime)}`.
pub async fn send(http: &reqwest::Client, api: &str, token: &Secret, mime: &[u8]) -> Result<Sent> {
    let u = format!("{}/users/me/messages/send", api.trim_end_matches('/'));
    answer::check_transport(&u)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mime);
    let response =
        http.post(&u).bearer_auth(token.expose()).json(&serde_json::json!({ "raw": raw })).send().await.map_err(answer::unreachable)?;
    let (_, body) = answer::read(response).await?;
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| Error::BadAnswer(format!("the send answer: {e}")))?;
    let id = v["id"].as_str().filter(|i| !i.is_empty()).ok_or_else(|| Error::BadAnswer("the send answer has no id".into()))?;
    Ok(Sent {
        id: id.to_owned(),
        thread_id: v["threadId"].as_str().map(str::to_owned),
        labels: v["labelIds"].as_array().map(|l| l.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default(),
    })
}
