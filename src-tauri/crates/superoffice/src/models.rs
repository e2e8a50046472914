//! The client's own view of SuperOffice's JSON, written from the documented field lists
//! (never shared with the simulator). Unknown fields are ignored; missing optional ones
//! default, so a leaner tenant does not break decoding.

use serde::Deserialize;

/// `GET User/currentPrincipal` (SoPrincipalCarrier), the fields the app uses.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Principal {
    pub associate_id: i64,
    #[serde(default)]
    pub person_id: i64,
    #[serde(default)]
    pub contact_id: i64,
    #[serde(default)]
    pub full_name: String,
    #[serde(default, rename = "EMailAddress")]
    pub email_address: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub function_rights: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EntityElement {
    #[serde(default)]
    pub value: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContactRef {
    pub contact_id: i64,
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET Person/{id}` (PersonEntity), the fields the app uses.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Person {
    pub person_id: i64,
    #[serde(default)]
    pub firstname: String,
    #[serde(default)]
    pub lastname: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub emails: Vec<EntityElement>,
    #[serde(default)]
    pub contact: Option<ContactRef>,
}

impl Person {
    /// The first email on the card (SuperOffice's "primary" by rank order).
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.iter().map(|e| e.value.trim()).find(|v| !v.is_empty())
    }
    pub fn display_name(&self) -> String {
        self.full_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| format!("{} {}", self.firstname, self.lastname).trim().to_owned())
    }
}

/// One row of the OData-style appointment listing.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentRow {
    pub appointment_id: i64,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub contact_id: i64,
    #[serde(default)]
    pub person_id: i64,
    #[serde(default)]
    pub sale_id: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ODataPage<T> {
    pub value: Vec<T>,
    #[serde(rename = "odata.nextLink")]
    pub next_link: Option<String>,
}

/// What the app keeps of a created document.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentRef {
    pub document_id: i64,
    #[serde(default)]
    pub name: String,
}

/// SuperOffice's error body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ErrorBody {
    pub error_type: Option<String>,
    pub error_message: Option<String>,
}
