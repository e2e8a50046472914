import { describe, expect, it } from "vitest";
import type { CheckId, Check_Serialize as Check, Status } from "./bindings";
import { alignChecks, checkTitle, docsUrl, ownerWord, statusWord } from "./diagnostics";
import { translator } from "./i18n";

const check = (id: CheckId, status: Status = "pass"): Check => ({
  id,
  status,
  tried: [],
  evidence: [],
  cause: null,
  owner: null,
  action: null,
  docs: null,
  http_status: null,
  found: null,
});
const en = translator("en");
const de = translator("de");

describe("alignChecks", () => {
  it("pairs both columns by id in the screen's order", () => {
    const rep = (["tenant_state", "sign_in", "identity", "email_agent", "smtp_relay", "keychain"] as const).map((id) => check(id));
    const system = (["system_sign_in", "identity", "email_agent", "associate_me"] as const).map((id) => check(id, "fail"));
    const rows = alignChecks(rep, system);
    expect(rows.map((r) => r.id)).toEqual(["tenant_state", "sign_in", "system_sign_in", "identity", "associate_me", "email_agent", "smtp_relay", "keychain"]);
    const identity = rows.find((r) => r.id === "identity");
    expect(identity?.rep?.status).toBe("pass");
    expect(identity?.system?.status).toBe("fail");
    expect(rows.find((r) => r.id === "smtp_relay")?.system).toBeNull();
    expect(rows.find((r) => r.id === "associate_me")?.rep).toBeNull();
  });
  it("puts the intake check between the follow-up tasks and the email agent", () => {
    const rows = alignChecks(
      (["email_agent", "intake", "task_handoff"] as const).map((id) => check(id)),
      null,
    );
    expect(rows.map((r) => r.id)).toEqual(["task_handoff", "intake", "email_agent"]);
  });
});

describe("words for codes", () => {
  it("names checks, statuses and owners in both languages", () => {
    expect(checkTitle("email_agent", en)).toBe("SuperOffice Email agent");
    expect(checkTitle("email_agent", de)).toBe("SuperOffice-E-Mail-Agent");
    expect(statusWord("unknown", en)).toBe("Could not test");
    expect(statusWord("fail", de)).toBe("Fehlgeschlagen");
    expect(ownerWord("app_registration", en)).toContain("app manager");
    expect(ownerWord("dns_owner", de)).toContain("DNS");
    expect(ownerWord("app_vendor", en)).toContain("vendor");
    expect(ownerWord("app_vendor", de)).toContain("Hersteller");
    expect(checkTitle("intake", en)).toContain("Draft intake");
    expect(checkTitle("intake", de)).toContain("Entwurfsabruf");
  });
  it("shows only web links as documentation", () => {
    expect(docsUrl("https://docs.superoffice.com/en/x.html")).toBe("https://docs.superoffice.com/en/x.html");
    expect(docsUrl("javascript:alert(1)")).toBeNull();
    expect(docsUrl(null)).toBeNull();
  });
});
