import { describe, expect, it } from "vitest";
import { canApprove, statusOf } from "./status";

describe("statusOf", () => {
  it("names the document once archived", () => {
    expect(statusOf({ state: "done", problem: null, document_id: 412, reason: null }).label).toBe("Sent · archived as document 412");
  });
  it("shows why a draft cannot be sent", () => {
    const s = statusOf({ state: "pending", problem: "needs_recipient", document_id: null, reason: null });
    expect(s).toEqual({ label: "Needs recipient", tone: "warn" });
  });
  it("only pending drafts without a problem can be approved", () => {
    expect(canApprove({ state: "pending", problem: null })).toBe(true);
    expect(canApprove({ state: "pending", problem: "needs_subject" })).toBe(false);
    expect(canApprove({ state: "sent", problem: null })).toBe(false);
  });
});
