import { describe, expect, it } from "vitest";
import { canApprove, channelWhyText, reasonText, statusOf, timelineKind } from "./status";
import { translator } from "./i18n";

const base = {
  state: "pending" as const,
  problem: null,
  document_id: null,
  reason: null,
  send_after_ms: null,
  next_attempt_ms: null,
  snoozed_until_ms: null,
  retryable: false,
};

describe("statusOf", () => {
  it("says when an approved message goes out, and why a failed one waits", () => {
    const now = 1_000_000;
    expect(statusOf({ ...base, state: "approved", send_after_ms: now + 8_000 }, now).label).toBe("Approved · sends in 8 s");
    expect(statusOf({ ...base, state: "approved", send_after_ms: now - 1 }, now).label).toBe("Approved · sending");
    expect(statusOf({ ...base, state: "failed", retryable: true, next_attempt_ms: now + 300_000 }, now).label).toBe("Not sent · retrying in 5 min");
    expect(statusOf({ ...base, state: "failed" }, now).tone).toBe("error");
  });
  it("names the document once archived", () => {
    expect(statusOf({ ...base, state: "done", document_id: 412 }).label).toBe("Sent · archived as document 412");
  });
  it("shows why a draft cannot be sent", () => {
    const s = statusOf({ ...base, problem: "needs_recipient" });
    expect(s).toEqual({ label: "Needs recipient", tone: "warn" });
    expect(statusOf({ ...base, problem: "unsafe_subject" }).label).toBe("Subject has a line break");
    expect(statusOf({ ...base, problem: "unsafe_name" }).label).toBe("Recipient name has a line break");
  });
  it("only pending drafts without a problem can be approved", () => {
    expect(canApprove({ state: "pending", problem: null })).toBe(true);
    expect(canApprove({ state: "pending", problem: "needs_subject" })).toBe(false);
    expect(canApprove({ state: "sent", problem: null })).toBe(false);
  });
});

describe("statusOf in German", () => {
  const de = translator("de");
  it("speaks German when given the German translator", () => {
    const now = 1_000_000;
    expect(statusOf({ ...base, state: "approved", send_after_ms: now + 8_000 }, now, de, "de").label).toBe("Freigegeben · wird in 8 s gesendet");
    expect(statusOf({ ...base, state: "done", document_id: 7 }, now, de, "de").label).toBe("Gesendet · archiviert als Dokument 7");
    expect(statusOf({ ...base, problem: "needs_recipient" }, now, de, "de").label).toBe("Empfänger fehlt");
    expect(statusOf({ ...base, problem: "unsafe_subject" }, now, de, "de").label).toBe("Betreff enthält einen Zeilenumbruch");
    expect(statusOf({ ...base, problem: "unsafe_name" }, now, de, "de")).toEqual({ label: "Empfängername enthält einen Zeilenumbruch", tone: "warn" });
    expect(timelineKind("data_started", de)).toBe("Übertragung begonnen");
    expect(timelineKind("unheard_of")).toBe("unheard of");
  });
});

describe("channelWhyText", () => {
  const de = translator("de");
  it("words the core's reason in the rep's language, as a sentence or after 'because'", () => {
    const notGranted = { kind: "not_granted", status: 401 } as const;
    expect(channelWhyText({ kind: "smtp_fallback", agent: notGranted })).toBe(
      "because the email agent is not granted to this app (HTTP 401); only SuperOffice's app manager can grant it",
    );
    expect(channelWhyText({ kind: "smtp_fallback", agent: notGranted }, de)).toBe(
      "weil der E-Mail-Agent für diese App nicht freigegeben ist (HTTP 401); nur der App-Manager von SuperOffice kann ihn freigeben",
    );
    expect(channelWhyText({ kind: "agent", agent: { kind: "available", account: "anna@x.example" } }, de)).toBe(
      "Der E-Mail-Agent von SuperOffice ist mit Ihrem Inbox-Konto anna@x.example verfügbar",
    );
    expect(channelWhyText({ kind: "handoff_fallback", agent: { kind: "no_inbox" } }, de)).toContain("kein SMTP-Relay");
    expect(channelWhyText({ kind: "admin_handoff" }, de)).toContain("Administrator");
  });
  it("names the connected mailbox by its product and address", () => {
    expect(channelWhyText({ kind: "mailbox", provider: "microsoft", address: "anna@x.example" })).toBe(
      "you connected your Microsoft 365 mailbox anna@x.example",
    );
    expect(channelWhyText({ kind: "admin_mailbox", provider: "google", address: "anna@x.example" }, de)).toBe(
      "der Administrator hat Ihr eigenes Postfach gewählt (Google Workspace anna@x.example)",
    );
  });
});

describe("reasonText", () => {
  const de = translator("de");
  it("words the core's reason in the rep's language and keeps the server's words", () => {
    const refused = { reason: "Refused: 550 5.1.1 no such user", reason_why: { kind: "refused", detail: "550 5.1.1 no such user" } as const };
    expect(reasonText(refused)).toBe("Refused: 550 5.1.1 no such user");
    expect(reasonText(refused, de)).toBe("Abgelehnt: 550 5.1.1 no such user");
    expect(reasonText({ reason: "x", reason_why: { kind: "stopped_during_data" } }, de)).toContain("übertragen");
    // The rep's own words, or rows from before the data was kept, stay as written.
    expect(reasonText({ reason: "zu förmlich", reason_why: null }, de)).toBe("zu förmlich");
    expect(reasonText({ reason: null }, de)).toBe(null);
  });
});
