// Validation of the first-run tenant form and the settings form, before anything goes to the
// core (which checks again). Each problem is an i18n key per field.
import type { SmtpSecurity } from "./bindings";
import type { Key } from "./i18n";

export type Errors<F extends string> = Partial<Record<F, Key>>;

export type TenantForm = {
  environment: string; // sod | qaonline | online | custom
  customUrl: string;
  contextId: string;
  clientId: string;
  clientSecret: string;
  taskType: string;
  smtpHost: string;
  smtpPort: string;
  smtpSecurity: SmtpSecurity;
  smtpUser: string;
  smtpPassword: string;
};

export type TenantField = keyof TenantForm;

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:]+\]$/;

export function validPort(s: string): boolean {
  return /^\d{1,5}$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 65535;
}

export function validTaskType(s: string): boolean {
  return /^\d{1,9}$/.test(s.trim()) && Number(s) > 0;
}

export function validHost(s: string): boolean {
  return HOST.test(s.trim()) && s.trim().length <= 253;
}

/** The environment as the core takes it: `sod`, `qaonline`, `online` or a base URL. */
export function environmentValue(f: Pick<TenantForm, "environment" | "customUrl">): string {
  return f.environment === "custom" ? f.customUrl.trim().replace(/\/+$/, "") : f.environment;
}

export function validateTenant(f: TenantForm): Errors<TenantField> {
  const e: Errors<TenantField> = {};
  if (f.environment === "custom") {
    try {
      const u = new URL(f.customUrl.trim());
      if (u.protocol !== "https:") e.customUrl = "form.httpsOnly";
    } catch {
      e.customUrl = "form.url";
    }
  } else if (!["sod", "qaonline", "online"].includes(f.environment)) e.environment = "form.required";
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(f.contextId.trim())) e.contextId = "form.contextId";
  if (!f.clientId.trim()) e.clientId = "form.required";
  else if (/\s/.test(f.clientId.trim())) e.clientId = "form.noSpaces";
  if (!f.clientSecret) e.clientSecret = "form.required";
  if (!validTaskType(f.taskType)) e.taskType = "form.positiveNumber";
  if (!validHost(f.smtpHost)) e.smtpHost = "form.host";
  if (!validPort(f.smtpPort)) e.smtpPort = "form.port";
  if (!["tls", "starttls"].includes(f.smtpSecurity)) e.smtpSecurity = "form.required";
  if (!f.smtpUser.trim()) e.smtpUser = "form.required";
  return e;
}

export type SettingsForm = {
  holdSecs: string;
  dailyCap: string;
  spacingSecs: string;
  taskType: string;
  relayHost: string;
  relayPort: string;
  relaySecurity: SmtpSecurity;
  relayUser: string;
};

export type SettingsField = keyof SettingsForm;

/** `hasRelay`: a configured tenant (the demo's relay and task type are fixed). */
export function validateSettings(f: SettingsForm, hasRelay: boolean): Errors<SettingsField> {
  const e: Errors<SettingsField> = {};
  const int = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s) : NaN);
  const hold = int(f.holdSecs);
  if (!(hold >= 0 && hold <= 60)) e.holdSecs = "form.hold";
  const cap = int(f.dailyCap);
  if (!(cap >= 1 && cap <= 10_000)) e.dailyCap = "form.dailyCap";
  const spacing = int(f.spacingSecs);
  if (!(spacing >= 0 && spacing <= 3600)) e.spacingSecs = "form.spacing";
  if (hasRelay) {
    if (!validTaskType(f.taskType)) e.taskType = "form.positiveNumber";
    if (!validHost(f.relayHost)) e.relayHost = "form.host";
    if (!validPort(f.relayPort)) e.relayPort = "form.port";
    if (!["tls", "starttls"].includes(f.relaySecurity)) e.relaySecurity = "form.required";
    if (!f.relayUser.trim()) e.relayUser = "form.required";
  }
  return e;
}

/** The diagnostics checks each settings section's "Test" runs. */
export const sectionChecks = {
  tenant: ["tenant_state"],
  relay: ["smtp_relay", "sender_domain"],
  channel: ["email_agent", "inbox_account", "email_template"],
  taskType: ["task_handoff"],
  template: ["email_template", "archive_documents"],
  secrets: ["keychain"],
} as const;

export type Section = keyof typeof sectionChecks;
