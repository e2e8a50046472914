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
    #[serde(default)]
    pub licenses: Vec<PrincipalLicense>,
}

/// One of `currentPrincipal`'s `Licenses` (the fields the app reads).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrincipalLicense {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
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
        self.full_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("{} {}", self.firstname, self.lastname).trim().to_owned())
    }
}

/// `GET Document/{id}`: what identifies an archived email (DocumentEntity,
/// `docs/en/api/reference/restful/rest/Document/v1DocumentEntity_GetDocumentEntity.md`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentEntity {
    pub document_id: i64,
    #[serde(default)]
    pub our_ref: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
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

/// `GET User/currentAssociate`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Associate {
    pub associate_id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub person_id: i64,
    #[serde(default)]
    pub full_name: String,
    /// 1 internal, 2 resource, 3 external, 4 anonymous, 5 system.
    #[serde(default, rename = "Type")]
    pub kind: serde_json::Value,
    #[serde(default)]
    pub user_name: String,
}

/// A `List/DocumentTemplate/Items` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentTemplate {
    pub document_template_id: i64,
    #[serde(default)]
    pub name: String,
    /// 1 app, 2 doc, 3 email, 4 fax, 5 phone, 6 todo (a number or its name).
    #[serde(default)]
    pub record_type: serde_json::Value,
    /// 1 incoming, 2 outgoing.
    #[serde(default)]
    pub direction: serde_json::Value,
    #[serde(default)]
    pub mime_type: Option<String>,
    /// A boolean in some answers, a number (0/1) in others.
    #[serde(default)]
    pub deleted: serde_json::Value,
}

impl DocumentTemplate {
    pub fn is_outgoing_email(&self) -> bool {
        let is =
            |v: &serde_json::Value, n: i64, name: &str| v.as_i64() == Some(n) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(name));
        let deleted = self.deleted.as_bool().unwrap_or(false) || self.deleted.as_i64().is_some_and(|d| d != 0);
        !deleted && is(&self.record_type, 3, "Email") && is(&self.direction, 2, "Outgoing")
    }
}

/// An MDO list item (`MDOList/task`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListItem {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppointmentRef {
    pub appointment_id: i64,
}

/// The rep's SuperOffice Inbox account (`Agents/EMail/GetCurrentAccount`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EMailAccount {
    #[serde(default)]
    pub e_mail_account_id: i64,
    #[serde(default, rename = "EMailAddress")]
    pub email_address: String,
    #[serde(default)]
    pub associate_id: i64,
    #[serde(default)]
    pub account_status: serde_json::Value,
    #[serde(default)]
    pub error_reason: Option<String>,
}

/// An address in an EMailEntity.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EMailAddress {
    pub address: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub person_id: i64,
    #[serde(default)]
    pub contact_id: i64,
}

/// The fields of an EMailEntity the app sends and reads (`Agents/EMail/Send`).
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EMailEntity {
    #[serde(default)]
    pub to: Vec<EMailAddress>,
    #[serde(default)]
    pub from: Option<EMailAddress>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub plain_body: String,
    /// Left out when there is no HTML part (an empty `HTMLBody` would ask for an empty one).
    #[serde(default, rename = "HTMLBody", skip_serializing_if = "Option::is_none")]
    pub html_body: Option<String>,
    #[serde(default, rename = "MessageID")]
    pub message_id: String,
    /// Read back but never used to decide anything: its meaning on a `Send` answer is not
    /// documented.
    #[serde(default, skip_serializing)]
    pub is_sent: bool,
    /// The rep's Inbox account (`GetCurrentAccount`'s `EMailAccountId`).
    #[serde(default)]
    pub account_id: i64,
}

/// CRMScriptRunResult (`Agents/CRMScript/ExecuteScriptByString`). `ErrorInformation` is an
/// object (CRMScriptErrorInformation), kept as it came.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CrmScriptResult {
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub error_information: Option<serde_json::Value>,
}

/// `Agents/License/GetUserLicenses` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserLicense {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub restricted_module_licenses: Vec<ModuleLicense>,
    #[serde(default)]
    pub unrestricted_module_licenses: Vec<ModuleLicense>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModuleLicense {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub assigned: bool,
}

/// The tenant state API's answer.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TenantState {
    #[serde(default)]
    pub context_identifier: String,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub is_running: bool,
    #[serde(default)]
    pub api: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_from_the_documented_field_list() {
        let p: Principal = serde_json::from_value(serde_json::json!({
            "UserType": "InternalAssociate", "Associate": "ABE", "AssociateId": 18, "IsPerson": true, "PersonId": 1,
            "ContactId": 1, "FullName": "Anna Berger", "EMailAddress": "anna@x.example", "FunctionRights": ["a"],
            "Licenses": [{"ModuleId": 1, "Name": "x"}], "UserName": "anna", "SecondaryGroups": []
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.associate_id, p.email_address.as_str(), p.function_rights.len()), (18, "anna@x.example", 1));
        // A system user's principal may lack the person fields entirely.
        let s: Principal = serde_json::from_value(serde_json::json!({"AssociateId": 7})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.person_id, s.email_address.as_str()), (0, ""));
    }

    #[test]
    fn person_without_emails_and_contact() {
        let p: Person = serde_json::from_value(
            serde_json::json!({"PersonId": 3, "Firstname": "Gerda", "Lastname": "Schmidt", "Emails": [], "Contact": null}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.primary_email(), p.display_name().as_str()), (None, "Gerda Schmidt"));
        let q: Person =
            serde_json::from_value(serde_json::json!({"PersonId": 4, "Emails": [{"Value": " "}, {"Value": "a@b.example", "Rank": 2}]}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.primary_email(), Some("a@b.example"));
    }

    #[test]
    fn odata_page_and_templates() {
        let t: Vec<DocumentTemplate> = serde_json::from_value(serde_json::json!([
            {"DocumentTemplateId": 3, "Name": "Email out", "RecordType": 3, "Direction": 2},
            {"DocumentTemplateId": 4, "Name": "Email in", "RecordType": "Email", "Direction": "Incoming"},
            {"DocumentTemplateId": 5, "Name": "Letter", "RecordType": 2, "Direction": 2},
            {"DocumentTemplateId": 6, "Name": "Old email", "RecordType": 3, "Direction": 2, "Deleted": 1},
            {"DocumentTemplateId": 7, "Name": "Older email", "RecordType": 3, "Direction": 2, "Deleted": true}
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.iter().filter(|x| x.is_outgoing_email()).map(|x| x.document_template_id).collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn the_other_documented_shapes_decode() {
        let a: Associate = serde_json::from_value(serde_json::json!({
            "AssociateId": 18, "Name": "ABE", "PersonId": 1, "Rank": 3, "Tooltip": "", "Type": "InternalAssociate",
            "GroupIdx": 2, "FullName": "Anna Berger", "FormalName": "Berger, Anna", "Deleted": false, "EjUserId": 0, "UserName": "anna"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a.associate_id, a.person_id, a.full_name.as_str()), (18, 1, "Anna Berger"));
        let s: TenantState = serde_json::from_value(serde_json::json!({
            "ContextIdentifier": "Cust12345", "Endpoint": "https://online2.superoffice.com/Cust12345", "State": "Running",
            "IsRunning": true, "ValidUntil": "2026-12-01T00:00:00", "Api": "https://online2.superoffice.com/Cust12345/api", "Version": "10.5"
        })).unwrap_or_else(|e| panic!("{e}"));
        assert!(s.is_running && s.api.as_deref() == Some("https://online2.superoffice.com/Cust12345/api"));
        let e: Vec<EMailEntity> = serde_json::from_value(serde_json::json!([{
            "To": [{"ContactId": 2, "ContactName": "X", "PersonId": 2, "PersonName": "Y", "AssociateId": 0, "Address": "y@x.example", "EmailId": 5, "DuplicatePersonIds": [], "Name": "Y"}],
            "Cc": [], "Bcc": [], "Subject": "Hi", "HTMLBody": "<p>Hi</p>", "PlainBody": "Hi", "From": {"Address": "anna@x.example"},
            "Sent": "2026-11-28T10:00:00", "Priority": "Normal", "Flags": "None", "MessageID": "<m@x>", "IsSent": true, "AccountId": 2,
            "Attachments": [], "CustomHeaderList": [], "InReplyTo": ""
        }])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((e[0].to[0].address.as_str(), e[0].message_id.as_str(), e[0].is_sent), ("y@x.example", "<m@x>", true));
        let r: CrmScriptResult = serde_json::from_value(serde_json::json!({
            "Output": "x", "Parameters": {}, "TraceRun": null, "Eventdata": null, "Success": true, "ErrorInformation": {"Message": "", "Line": 0}, "StatusCode": 200, "StatusMessage": "OK", "Headers": {}
        })).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.success && r.output == "x");
        let l: Vec<UserLicense> = serde_json::from_value(serde_json::json!([{
            "Name": "SuperOffice", "Description": "", "RestrictedModuleLicenses": [{"ModuleLicenseId": 1, "Name": "Marketing User", "Description": "", "Assigned": true, "CanAssign": true, "Total": 5, "Free": 1, "InUse": 4, "Unrestricted": false, "IsHidden": false, "PrerequisiteModuleName": "", "SortOrder": 1, "ExtraFlags": 0}],
            "UnrestrictedModuleLicenses": []
        }])).unwrap_or_else(|e| panic!("{e}"));
        assert!(l[0].restricted_module_licenses[0].assigned);
        let d: DocumentRef =
            serde_json::from_value(serde_json::json!({"DocumentId": 401, "Name": "offer.eml", "Header": "Offer", "ExternalRef": "<m@x>"}))
                .unwrap_or_else(|e| panic!("{e}"));
        let t: Vec<ListItem> = serde_json::from_value(serde_json::json!([{"Id": 5, "Name": "Follow-up", "ToolTip": "", "Deleted": false, "Rank": 1, "Type": "", "ColorBlock": 0, "IconHint": "", "Selected": false, "LastChanged": "2026-01-01", "ChildItems": [], "ExtraInfo": "", "StyleHint": "", "FullName": "Follow-up"}])).unwrap_or_else(|e| panic!("{e}"));
        let r: AppointmentRef =
            serde_json::from_value(serde_json::json!({"AppointmentId": 77, "Type": "inChecklist"})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.document_id, t[0].id, r.appointment_id), (401, 5, 77));
        // Malformed answers are errors, not panics or zeroes.
        assert!(serde_json::from_value::<Principal>(serde_json::json!({"AssociateId": "eighteen"})).is_err());
    }

    #[test]
    fn email_account_may_be_null() {
        let none: Option<EMailAccount> = serde_json::from_str("null").unwrap_or_else(|e| panic!("{e}"));
        assert!(none.is_none());
        let some: Option<EMailAccount> =
            serde_json::from_value(serde_json::json!({"EMailAccountId": 2, "EMailAddress": "anna@x.example", "AssociateId": 18}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(some.map(|a| a.email_address), Some("anna@x.example".into()));
    }
}
