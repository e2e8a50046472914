//! The typed SuperOffice endpoints the app uses (superoffice-api.md §3), over [`Client`].

use reqwest::Method;
use serde_json::{json, Value};

use crate::archive::{self, AppointmentFilter, AppointmentRow, PAGE_SIZE, TASK_COLUMNS};
use crate::environment::Environment;
use crate::models::{
    AppointmentRef, Associate, CrmScriptResult, DocumentEntity, DocumentRef, DocumentTemplate, EMailAccount, EMailEntity, ListItem, Person,
    Principal, TenantState, UserLicense,
};
use crate::rest::{decode, Body, Client};
use crate::{Error, Result};

/// Most pages one listing follows (a server that keeps linking to more pages is stopped).
const MAX_PAGES: usize = 1000;

/// `GET https://{env}.superoffice.com/api/state/{ctx}` (no authentication).
pub async fn tenant_state(env: &Environment, context_id: &str) -> Result<TenantState> {
    let http = crate::environment::http_client()?;
    let resp = http.get(env.state_url(context_id)).send().await.map_err(crate::Error::from_reqwest)?;
    if !resp.status().is_success() {
        return Err(crate::error::api_error(resp).await);
    }
    decode(resp, "tenant state").await
}

impl Client {
    /// `GET User/currentPrincipal`: who is calling, with the address mail goes out from.
    pub async fn current_principal(&self) -> Result<Principal> {
        self.get("User/currentPrincipal").await
    }

    /// `GET User/currentAssociate`.
    pub async fn current_associate(&self) -> Result<Associate> {
        self.get("User/currentAssociate").await
    }

    pub async fn person(&self, id: i64) -> Result<Person> {
        self.get(&format!("Person/{id}")).await
    }

    /// The rep's open follow-up tasks of one task type with the recipient of each, all pages:
    /// one request per [`PAGE_SIZE`] tasks (FindAppointment, see `archive.rs`). The next page
    /// is `odata.nextLink` (absolute or relative to the page it came from); a server that has
    /// not sent any link is asked for the next `$skip` after a full page (the documentation
    /// does not promise the link), one that has sent links is trusted to end without one. A
    /// page that cannot be decoded
    /// is an error naming the row, never a silent gap.
    pub async fn open_tasks(&self, f: &AppointmentFilter) -> Result<Vec<AppointmentRow>> {
        // Built on the current API base each time: the tenant may move (421) while paging.
        let page_url = |skip: usize| -> Result<url::Url> {
            let mut u = self.url("Appointment")?;
            u.query_pairs_mut()
                .append_pair("$select", &TASK_COLUMNS.join(","))
                .append_pair("$filter", &f.odata())
                .append_pair("$orderBy", "appointmentId")
                .append_pair("$top", &PAGE_SIZE.to_string());
            if skip > 0 {
                u.query_pairs_mut().append_pair("$skip", &skip.to_string());
            }
            Ok(u)
        };
        let mut rows: Vec<AppointmentRow> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut next = Some(page_url(0)?);
        let mut skip = 0usize;
        let mut pages = 0usize;
        let mut linked = false;
        while let Some(u) = next.take() {
            pages += 1;
            if pages > MAX_PAGES || !seen.insert(u.to_string()) {
                return Err(Error::Decode("Appointment: the listing keeps linking to pages already read".into()));
            }
            let resp = self.send(Method::GET, u, Body::None).await?;
            // A relative link is relative to where this page really came from (after a move).
            let here = resp.url().clone();
            let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
            let page = archive::page(&bytes, "Appointment")?;
            let count = page.rows.len();
            for r in &page.rows {
                let row = AppointmentRow::from_row(r).map_err(|e| Error::Decode(format!("Appointment: {e}")))?;
                // A join may repeat a task (a person with several addresses): the first row wins.
                if !rows.iter().any(|x| x.appointment_id == row.appointment_id) {
                    rows.push(row);
                }
            }
            skip += count;
            next = match page.next_link {
                Some(link) => {
                    linked = true;
                    Some(here.join(&link).map_err(|e| Error::Decode(format!("odata.nextLink: {e}")))?)
                }
                None if count >= PAGE_SIZE && !linked => Some(page_url(skip)?),
                None => None,
            };
        }
        Ok(rows)
    }

    /// `GET Appointment/default`.
    pub async fn appointment_default(&self) -> Result<Value> {
        self.get("Appointment/default").await
    }

    /// `POST Appointment`: creates a task or appointment; the server fills in defaults.
    pub async fn create_appointment(&self, entity: &Value) -> Result<AppointmentRef> {
        self.post("Appointment", entity.clone()).await
    }

    /// `GET Appointment/{id}` as returned (kept whole, so an update round-trips every field).
    pub async fn appointment(&self, id: i64) -> Result<Value> {
        self.get(&format!("Appointment/{id}")).await
    }

    /// `PUT Appointment/{id}` with a whole entity.
    pub async fn update_appointment(&self, id: i64, entity: &Value) -> Result<AppointmentRef> {
        let resp = self.send(Method::PUT, self.url(&format!("Appointment/{id}"))?, Body::Json(entity.clone())).await?;
        decode(resp, "Appointment").await
    }

    /// Marks a follow-up task as completed (JSON Patch on `Completed`).
    pub async fn complete_task(&self, appointment_id: i64) -> Result<()> {
        let patch = json!([{ "op": "replace", "path": "/Completed", "value": "Completed" }]);
        self.send(Method::PATCH, self.url(&format!("Appointment/{appointment_id}"))?, Body::Json(patch)).await?;
        Ok(())
    }

    /// `GET MDOList/task`: the task types.
    pub async fn task_types(&self) -> Result<Vec<ListItem>> {
        self.get("MDOList/task").await
    }

    /// `GET Document/default`: a new document entity with the server's defaults.
    pub async fn document_default(&self) -> Result<Value> {
        self.get("Document/default").await
    }

    /// `POST Document`: creates the entity; the returned one may carry an amended name.
    pub async fn create_document(&self, entity: &Value) -> Result<DocumentRef> {
        self.post("Document", entity.clone()).await
    }

    /// `DELETE Document/{id}` (the diagnostics' write check removes its test document).
    pub async fn delete_document(&self, id: i64) -> Result<()> {
        self.send(Method::DELETE, self.url(&format!("Document/{id}"))?, Body::None).await?;
        Ok(())
    }

    /// `GET Document/{id}`.
    pub async fn document(&self, id: i64) -> Result<DocumentRef> {
        self.get(&format!("Document/{id}")).await
    }

    /// `PUT Document/{id}/Content` with the raw bytes (`application/octet-stream`; the
    /// documented content types do not include `message/rfc822`).
    pub async fn put_document_content(&self, document_id: i64, bytes: Vec<u8>) -> Result<()> {
        self.send(Method::PUT, self.url(&format!("Document/{document_id}/Content"))?, Body::Bytes(bytes)).await?;
        Ok(())
    }

    /// The documents whose `ourref` is `reference` (FindDocument, string `eq`), at most 10 ids.
    /// Candidates only: see [`archive::archive_ref`] for how a caller proves one is its own.
    pub async fn find_documents_by_ourref(&self, reference: &str) -> Result<Vec<i64>> {
        let mut url = self.url("Document")?;
        url.query_pairs_mut()
            .append_pair("$select", "documentId")
            // A quote inside a string value is escaped with a backslash (SuperOffice's OData
            // pages; `''` is not SuperOffice's form).
            .append_pair("$filter", &format!("ourref eq '{}'", reference.replace('\\', "\\\\").replace('\'', "\\'")))
            .append_pair("$top", "10");
        let resp = self.send(Method::GET, url, Body::None).await?;
        let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
        let page = archive::page(&bytes, "Document")?;
        page.rows
            .iter()
            .map(|r| archive::int(r, "documentId").map_err(|e| Error::Decode(format!("Document: {e}"))))
            .filter(|id| !matches!(id, Ok(0)))
            .collect()
    }

    /// `GET Document/{id}` with the fields that identify an archived email.
    pub async fn document_entity(&self, id: i64) -> Result<DocumentEntity> {
        self.get(&format!("Document/{id}")).await
    }

    /// `GET List/DocumentTemplate/Items`.
    pub async fn document_templates(&self) -> Result<Vec<DocumentTemplate>> {
        self.get("List/DocumentTemplate/Items").await
    }

    /// The templates usable for archiving sent email: record type 3 (email), outgoing.
    pub async fn outgoing_email_templates(&self) -> Result<Vec<DocumentTemplate>> {
        Ok(self.document_templates().await?.into_iter().filter(DocumentTemplate::is_outgoing_email).collect())
    }

    /// `POST Agents/EMail/GetCurrentAccount`: the rep's SuperOffice Inbox account, if any.
    /// Online-restricted: 401/403 means the app registration lacks "Email" agent access.
    pub async fn email_current_account(&self) -> Result<Option<EMailAccount>> {
        self.post("Agents/EMail/GetCurrentAccount", json!({})).await
    }

    /// `POST Agents/EMail/Send`.
    pub async fn email_send(&self, emails: &[EMailEntity]) -> Result<Vec<EMailEntity>> {
        self.post("Agents/EMail/Send", json!({ "Emails": emails })).await
    }

    /// `POST Agents/CRMScript/ExecuteScriptByString` (Online-restricted).
    pub async fn crmscript_execute(&self, script: &str) -> Result<CrmScriptResult> {
        self.post("Agents/CRMScript/ExecuteScriptByString", json!({ "Script": script, "Parameters": {} })).await
    }

    /// `POST Agents/Sentry/HasFunctionRight`.
    pub async fn has_function_right(&self, right: &str) -> Result<bool> {
        self.post("Agents/Sentry/HasFunctionRight", json!({ "FunctionRight": right })).await
    }

    /// `POST Agents/License/GetUserLicenses`.
    pub async fn user_licenses(&self, associate_id: i64) -> Result<Vec<UserLicense>> {
        self.post("Agents/License/GetUserLicenses", json!({ "AssociateId": associate_id })).await
    }

    /// A GET of any path below the API base, for diagnostics that report the raw outcome
    /// (e.g. the seed's `Associate/Me`). Returns the body as JSON when it is JSON.
    pub async fn probe(&self, method: Method, path: &str) -> Result<Value> {
        let body = if method == Method::GET { Body::None } else { Body::Json(json!({})) };
        let resp = self.send(method, self.url(path)?, body).await?;
        let bytes = resp.bytes().await.map_err(crate::Error::from_reqwest)?;
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}
