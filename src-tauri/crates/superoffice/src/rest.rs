//! The typed REST client over a signed-in [`Session`].

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::models::{AppointmentRow, DocumentRef, ErrorBody, ODataPage, Person, Principal};
use crate::{Error, Result, Session};

/// Largest page requested when listing.
pub const PAGE_SIZE: usize = 200;

/// Turns an error response into [`Error::Api`], reading SuperOffice's error body and
/// `Retry-After` when present.
pub(crate) async fn api_error(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let text = resp.text().await.unwrap_or_default();
    let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
    let message = body
        .as_ref()
        .and_then(|b| b.error_message.clone())
        .unwrap_or_else(|| text.chars().take(200).collect::<String>())
        .trim()
        .to_owned();
    Error::Api { status, error_type: body.and_then(|b| b.error_type), message, retry_after }
}

/// Which follow-up tasks to take in.
#[derive(Clone, Debug)]
pub struct AppointmentFilter {
    pub associate_id: i64,
    pub task_type_id: i64,
}

enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
}

/// The REST client of one session.
#[derive(Clone)]
pub struct Client {
    session: Session,
}

impl Client {
    pub fn new(session: Session) -> Self {
        Client { session }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Sends one request; on a 401 refreshes once (single-flight) and repeats it.
    async fn send(&self, method: Method, url: url::Url, body: Body) -> Result<reqwest::Response> {
        if !self.session.environment().api_url_allowed(&url) {
            return Err(Error::UntrustedHost(url.host_str().unwrap_or("?").to_owned()));
        }
        let mut refreshed = false;
        loop {
            let (token, generation) = self.session.bearer().await?;
            let mut req = self
                .session
                .http()
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            req = match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Bytes(b) => req.header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(b.clone()),
            };
            let resp = req.send().await.map_err(Error::from_reqwest)?;
            if resp.status() == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.session.refresh(generation).await?;
                continue;
            }
            if !resp.status().is_success() {
                return Err(api_error(resp).await);
            }
            return Ok(resp);
        }
    }

    fn url(&self, path: &str) -> Result<url::Url> {
        self.session.api_base().join(path).map_err(|e| Error::Decode(format!("bad path {path}: {e}")))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let resp = self.send(Method::GET, self.url(path)?, Body::None).await?;
        decode(resp, path).await
    }

    /// `GET User/currentPrincipal`: who the rep is, with the address mail goes out from.
    pub async fn current_principal(&self) -> Result<Principal> {
        self.get("User/currentPrincipal").await
    }

    pub async fn person(&self, id: i64) -> Result<Person> {
        self.get(&format!("Person/{id}")).await
    }

    /// The rep's open follow-up tasks of one task type, all pages (`odata.nextLink`).
    pub async fn open_tasks(&self, f: &AppointmentFilter) -> Result<Vec<AppointmentRow>> {
        let mut url = self.url("Appointment")?;
        url.query_pairs_mut()
            .append_pair("$select", "appointmentId,description,contactId,personId,saleId")
            .append_pair(
                "$filter",
                &format!("associateId eq {} and type eq 'inChecklist' and completed eq 'NotStarted' and taskId eq {}", f.associate_id, f.task_type_id),
            )
            .append_pair("$top", &PAGE_SIZE.to_string());
        let mut rows = Vec::new();
        let mut next = Some(url);
        while let Some(u) = next.take() {
            let resp = self.send(Method::GET, u, Body::None).await?;
            let page: ODataPage<AppointmentRow> = decode(resp, "Appointment").await?;
            rows.extend(page.value);
            next = match page.next_link {
                Some(link) => Some(url::Url::parse(&link).map_err(|e| Error::Decode(format!("odata.nextLink: {e}")))?),
                None => None,
            };
        }
        Ok(rows)
    }

    /// Marks a follow-up task as completed (JSON Patch on `Completed`).
    pub async fn complete_task(&self, appointment_id: i64) -> Result<()> {
        let patch = json!([{ "op": "replace", "path": "/Completed", "value": "Completed" }]);
        self.send(Method::PATCH, self.url(&format!("Appointment/{appointment_id}"))?, Body::Json(patch)).await?;
        Ok(())
    }

    /// `GET Document/default`: a new document entity with the server's defaults.
    pub async fn document_default(&self) -> Result<Value> {
        self.get("Document/default").await
    }

    /// `POST Document`: creates the entity; the returned one may carry an amended name.
    pub async fn create_document(&self, entity: &Value) -> Result<DocumentRef> {
        let resp = self.send(Method::POST, self.url("Document")?, Body::Json(entity.clone())).await?;
        decode(resp, "Document").await
    }

    /// `PUT Document/{id}/Content` with the raw bytes.
    pub async fn put_document_content(&self, document_id: i64, bytes: Vec<u8>) -> Result<()> {
        self.send(Method::PUT, self.url(&format!("Document/{document_id}/Content"))?, Body::Bytes(bytes)).await?;
        Ok(())
    }

    /// Looks a document up by `ExternalRef` (our Message-ID). The documentation does not
    /// promise that this column is searchable, so callers keep a fallback.
    pub async fn find_document_by_external_ref(&self, external_ref: &str) -> Result<Option<i64>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            document_id: i64,
        }
        let mut url = self.url("Document")?;
        url.query_pairs_mut()
            .append_pair("$select", "documentId")
            .append_pair("$filter", &format!("externalRef eq '{}'", external_ref.replace('\'', "''")))
            .append_pair("$top", "2");
        let resp = self.send(Method::GET, url, Body::None).await?;
        let page: ODataPage<Row> = decode(resp, "Document").await?;
        Ok(page.value.first().map(|r| r.document_id))
    }
}

async fn decode<T: DeserializeOwned>(resp: reqwest::Response, what: &str) -> Result<T> {
    let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode(format!("{what}: {e}")))
}
