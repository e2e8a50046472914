//! The typed SuperOffice endpoints the app uses (superoffice-api.md §3), over [`Client`].

use reqwest::Method;
use serde_json::{json, Value};

use crate::models::{
    AppointmentRef, AppointmentRow, Associate, CrmScriptResult, DocumentRef, DocumentTemplate, EMailAccount, EMailEntity, ListItem,
    ODataPage, Person, Principal, TenantState, UserLicense,
};
use crate::rest::{decode, Body, Client};
use crate::signin::Environment;
use crate::Result;

/// Largest page requested when listing.
pub const PAGE_SIZE: usize = 200;

/// Which follow-up tasks to take in.
#[derive(Clone, Debug)]
pub struct AppointmentFilter {
    pub associate_id: i64,
    pub task_type_id: i64,
}

/// `GET https://{env}.superoffice.com/api/state/{ctx}` (no authentication).
pub async fn tenant_state(env: &Environment, context_id: &str) -> Result<TenantState> {
    let http = crate::session::http_client()?;
    let resp = http.get(env.state_url(context_id)).send().await.map_err(crate::Error::from_reqwest)?;
    if !resp.status().is_success() {
        return Err(crate::rest::api_error(resp).await);
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

    /// The rep's open follow-up tasks of one task type, all pages (`odata.nextLink`).
    pub async fn open_tasks(&self, f: &AppointmentFilter) -> Result<Vec<AppointmentRow>> {
        let mut url = self.url("Appointment")?;
        url.query_pairs_mut()
            .append_pair("$select", "appointmentId,description,contactId,personId,saleId")
            .append_pair(
                "$filter",
                &format!(
                    "associateId eq {} and type eq 'inChecklist' and completed eq 'NotStarted' and taskId eq {}",
                    f.associate_id, f.task_type_id
                ),
            )
            .append_pair("$orderBy", "appointmentId")
            .append_pair("$top", &PAGE_SIZE.to_string());
        let mut rows = Vec::new();
        let mut next = Some(url);
        while let Some(u) = next.take() {
            let resp = self.send(Method::GET, u, Body::None).await?;
            let page: ODataPage<AppointmentRow> = decode(resp, "Appointment").await?;
            rows.extend(page.value);
            next = match page.next_link {
                Some(link) => Some(url::Url::parse(&link).map_err(|e| crate::Error::Decode(format!("odata.nextLink: {e}")))?),
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

    /// The fallback search for an archived email when `ExternalRef` cannot be searched: the
    /// documents of a contact with a given header (title). Returns `(DocumentId, ExternalRef)`.
    pub async fn find_documents_by_contact_and_header(&self, contact_id: i64, header: &str) -> Result<Vec<(i64, String)>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Row {
            document_id: i64,
            #[serde(default)]
            external_ref: String,
        }
        let mut url = self.url("Document")?;
        url.query_pairs_mut()
            .append_pair("$select", "documentId,externalRef")
            .append_pair("$filter", &format!("contactId eq {contact_id} and header eq '{}'", header.replace('\'', "''")))
            .append_pair("$top", "50");
        let resp = self.send(Method::GET, url, Body::None).await?;
        let page: ODataPage<Row> = decode(resp, "Document").await?;
        Ok(page.value.into_iter().map(|r| (r.document_id, r.external_ref)).collect())
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
