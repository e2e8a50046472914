import { describe, expect, it } from "vitest";
import { labelOf, rowReason, shortTime, VIEWS } from "./outbox";
import { translator } from "./i18n";

const t = translator("en");
const base = { state: "pending" as const, problem: null, reason: null, smtp_reply: null, send_after_ms: null, attempts: 0 };

describe("rowReason", () => {
  it("prefers the core's reason", () => {
    expect(rowReason({ ...base, state: "failed", reason: "451 try later" }, t)).toBe("451 try later");
  });
  it("words the core's reason in the UI's language when it came as data", () => {
    const row = { ...base, state: "failed" as const, reason: "Not sent: 451 try later", reason_why: { kind: "not_sent" as const, detail: "451 try later" } };
    expect(rowReason(row, t)).toBe("Not sent: 451 try later");
    expect(rowReason(row, translator("de"))).toBe("Nicht gesendet: 451 try later");
  });
  it("says what a state means when the core gave no reason", () => {
    expect(rowReason(base, t)).toBe("");
    expect(rowReason({ ...base, problem: "needs_recipient" }, t)).toBe(t("reason.fixWithEdit"));
    expect(rowReason({ ...base, state: "approved", send_after_ms: 2000 }, t, 1000)).toBe(t("reason.undoWindow"));
    expect(rowReason({ ...base, state: "needs_decision" }, t)).toBe(t("reason.unknownOutcome"));
    expect(rowReason({ ...base, state: "done", smtp_reply: "250 2.0.0 queued" }, t)).toBe("250 2.0.0 queued");
  });
});

describe("labelOf", () => {
  it("names the person (or the address) and the subject", () => {
    expect(labelOf({ recipient_name: "Jonas Weber", recipient_email: "j@x.example", subject: "Offer" }, t)).toBe("Jonas Weber — Offer");
    expect(labelOf({ recipient_name: "", recipient_email: "j@x.example", subject: null }, t)).toBe(`j@x.example — ${t("outbox.noSubject")}`);
    expect(labelOf({ recipient_name: "", recipient_email: null, subject: "Hi" }, t)).toBe(`${t("outbox.noPerson")} — Hi`);
  });
});

describe("shortTime", () => {
  const now = new Date(2026, 10, 28, 15, 0).getTime();
  it("shows the time today and the date before", () => {
    expect(shortTime(new Date(2026, 10, 28, 9, 5).toISOString(), now, "en-GB")).toBe("09:05");
    expect(shortTime(new Date(2026, 10, 2, 9, 5).toISOString(), now, "en-GB")).toBe("2 Nov");
    expect(shortTime(null, now, "en-GB")).toBe("");
  });
});

describe("VIEWS", () => {
  it("has every view once", () => {
    expect(new Set(VIEWS).size).toBe(8);
  });
});
