import { describe, expect, it } from "vitest";
import { environmentValue, validateSettings, validateTenant, type SettingsForm, type TenantForm } from "./forms";

const good: TenantForm = {
  environment: "online",
  customUrl: "",
  contextId: "Cust12345",
  clientId: "0fd8a1b2c3",
  clientSecret: "s3cret",
  taskType: "7",
  smtpHost: "smtp.example.com",
  smtpPort: "465",
  smtpSecurity: "tls",
  smtpUser: "anna@example.com",
  smtpPassword: "",
};

describe("tenant form", () => {
  it("accepts a complete form", () => {
    expect(validateTenant(good)).toEqual({});
    expect(environmentValue(good)).toBe("online");
  });
  it("names each bad field", () => {
    const e = validateTenant({ ...good, contextId: "12345", clientSecret: "", taskType: "0", smtpHost: "smtp example", smtpPort: "70000", smtpUser: " " });
    expect(e).toEqual({
      contextId: "form.contextId",
      clientSecret: "form.required",
      taskType: "form.positiveNumber",
      smtpHost: "form.host",
      smtpPort: "form.port",
      smtpUser: "form.required",
    });
  });
  it("takes only https onsite addresses", () => {
    expect(validateTenant({ ...good, environment: "custom", customUrl: "http://crm.example.com" }).customUrl).toBe("form.httpsOnly");
    expect(validateTenant({ ...good, environment: "custom", customUrl: "crm" }).customUrl).toBe("form.url");
    const onsite = { ...good, environment: "custom", customUrl: "https://crm.example.com/" };
    expect(validateTenant(onsite)).toEqual({});
    expect(environmentValue(onsite)).toBe("https://crm.example.com");
  });
});

describe("settings form", () => {
  const s: SettingsForm = {
    holdSecs: "10",
    dailyCap: "250",
    spacingSecs: "0",
    taskType: "7",
    relayHost: "smtp.example.com",
    relayPort: "587",
    relaySecurity: "starttls",
    relayUser: "anna",
  };
  it("accepts sensible values", () => {
    expect(validateSettings(s, true)).toEqual({});
  });
  it("refuses values the core refuses", () => {
    expect(validateSettings({ ...s, holdSecs: "61", dailyCap: "0", spacingSecs: "-1" }, false)).toEqual({
      holdSecs: "form.hold",
      dailyCap: "form.dailyCap",
      spacingSecs: "form.spacing",
    });
  });
  it("checks the relay only for a configured tenant", () => {
    expect(validateSettings({ ...s, relayHost: "" }, false)).toEqual({});
    expect(validateSettings({ ...s, relayHost: "" }, true)).toEqual({ relayHost: "form.host" });
  });
});
