//! Microsoft Graph, the few calls that send as the rep and find the Sent copy again: the
//! documented "immutable ID with sending mail" recipe ([IMM]): create the message as a draft
//! from our exact MIME with `Prefer: IdType="ImmutableId"` ([PM], [MIME]), keep its id, send
//! it ([MS]), and after a lost answer read it by that id, which is then the Sent Items copy.
//! `/me` gives the mailbox's address ([UG]).

use base64::Engine as _;
use keychain::Secret;
use serde::Deserialize;

use crate::{answer, Error, Result};

/// `Prefer` header value that makes Graph return ids that survive the move to Sent Items.
const IMMUTABLE: &str = "IdType=\"ImmutableId\"";

/// `GET /me`, the fields we use.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: String,
    /// `null` for a user without an Exchange mailbox.
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: String,
    pub display_name: Option<String>,
}

/// A draft made from our MIME.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// The immutable id; it stays the same in Sent Items.
    pub id: String,
    /// The Message-ID Exchange will send with (ours, unless the server replaced it, which its
    /// protocol allows: [OXCMAIL] §2.1.3.2.11).
    pub internet_message_id: Option<String>,
}

/// Where a submitted draft is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// Sent: no longer a draft (it is the Sent Items copy).
    Sent { internet_message_id: Option<String>, sent_at: Option<String> },
    /// Still a draft: transport has not taken it (yet).
    Draft,
    /// No such item: the rep deleted it, or it was moved out of the mailbox.
    Gone,
}

fn url(api: &str, segments: &[&str]) -> Result<url::Url> {
    let mut u = url::Url::parse(api).map_err(|e| Error::BadAnswer(format!("the Graph address is not valid: {e}")))?;
    u.path_segments_mut().map_err(|()| Error::BadAnswer("the Graph address cannot have a path".into()))?.pop_if_empty().extend(segments);
    answer::check_transport(u.as_str())?;
    Ok(u)
}

/// `GET /me`.
pub async fn me(http: &reqwest::Client, api: &str, token: &Secret) -> Result<Me> {
    let u = url(api, &["me"])?;
    let response = http.get(u).bearer_auth(token.expose()).send().await.map_err(answer::unreachable)?;
    let (_, body) = answer::read(response).await?;
    serde_json::from_str(&body).map_err(|e| Error::BadAnswer(format!("/me: {e}")))
}

/// `POST /me/messages` with the MIME as base64 `text/plain` ([MIME]): a draft in Drafts.
pub async fn create_draft(http: &reqwest::Client, api: &str, token: &Secret, mime: &[u8]) -> Result<Draft> {
    let u = url(api, &["me", "messages"])?;
    let body = base64::engine::general_purpose::STANDARD.encode(mime);
    let response = http
        .post(u)
        .bearer_auth(token.expose())
        .header(reqwest::header::CONTENT_TYPE, "text/plain")
        .header("Prefer", IMMUTABLE)
        .body(body)
        .send()
        .await
        .map_err(answer::unreachable)?;
    let (status, body) = answer::read(response).await?;
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| Error::BadAnswer(format!("the new draft: {e}")))?;
    let id =
        v["id"].as_str().filter(|i| !i.is_empty()).ok_or_else(|| Error::BadAnswer(format!("the new draft (HTTP {status}) has no id")))?;
    if v["isDraft"].as_bool() == Some(false) {
        return Err(Error::BadAnswer("Graph made the message as already sent, not as a draft".into()));
    }
    Ok(Draft { id: id.to_owned(), internet_message_id: v["internetMessageId"].as_str().map(str::to_owned) })
}

/// `POST /me/messages/{id}/send` with an empty body ([MS]: `Content-Length: 0`, `202`).
pub async fn send_draft(http: &reqwest::Client, api: &str, token: &Secret, id: &str) -> Result<()> {
    let u = url(api, &["me", "messages", id, "send"])?;
    let response = http
        .post(u)
        .bearer_auth(token.expose())
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .header("Prefer", IMMUTABLE)
        .send()
        .await
        .map_err(answer::unreachable)?;
    match answer::read(response).await? {
        (202, _) => Ok(()),
        (status, _) => Err(Error::BadAnswer(format!("sending the draft answered HTTP {status}, not 202 Accepted"))),
    }
}

/// `GET /me/messages/{id}` with the immutable id: sent, still a draft, or gone.
pub async fn find(http: &reqwest::Client, api: &str, token: &Secret, id: &str) -> Result<Found> {
    let mut u = url(api, &["me", "messages", id])?;
    u.query_pairs_mut().append_pair("$select", "isDraft,parentFolderId,sentDateTime,internetMessageId");
    let response = http.get(u).bearer_auth(token.expose()).header("Prefer", IMMUTABLE).send().await.map_err(answer::unreachable)?;
    let body = match answer::read(response).await {
        Ok((_, body)) => body,
        Err(Error::Api { status: 404, .. }) => return Ok(Found::Gone),
        Err(e) => return Err(e),
    };
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| Error::BadAnswer(format!("the message: {e}")))?;
    match v["isDraft"].as_bool() {
        Some(true) => Ok(Found::Draft),
        Some(false) => Ok(Found::Sent {
            internet_message_id: v["internetMessageId"].as_str().map(str::to_owned),
            sent_at: v["sentDateTime"].as_str().map(str::to_owned),
        }),
        None => Err(Error::BadAnswer("the message has no isDraft".into())),
    }
}

/// A draft made earlier from our MIME whose answer was lost, by its Message-ID in Drafts
/// ([QP] quoting: the value keeps its angle brackets, a `'` is doubled).
pub async fn find_draft(http: &reqwest::Client, api: &str, token: &Secret, message_id: &str) -> Result<Option<String>> {
    let mut u = url(api, &["me", "mailFolders", "drafts", "messages"])?;
    u.query_pairs_mut()
        .append_pair("$filter", &format!("internetMessageId eq '{}'", message_id.replace('\'', "''")))
        .append_pair("$select", "id,isDraft");
    let response = http.get(u).bearer_auth(token.expose()).header("Prefer", IMMUTABLE).send().await.map_err(answer::unreachable)?;
    let (_, body) = answer::read(response).await?;
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| Error::BadAnswer(format!("the draft search: {e}")))?;
    let found = v["value"].as_array().ok_or_else(|| Error::BadAnswer("the draft search has no value list".into()))?;
    Ok(found.iter().find(|m| m["isDraft"].as_bool() != Some(false)).and_then(|m| m["id"].as_str()).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_path_segments_and_tokens_only_go_over_the_transport_rule() {
        let u = url("https://graph.microsoft.com/v1.0", &["me", "messages", "AAk/ALg=+x", "send"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.as_str(), "https://graph.microsoft.com/v1.0/me/messages/AAk%2FALg=+x/send");
        assert!(url("http://graph.example.com/v1.0", &["me"]).is_err());
        assert!(url("http://127.0.0.1:4000/v1.0/", &["me"]).is_ok_and(|u| u.as_str() == "http://127.0.0.1:4000/v1.0/me"));
    }
}
