// How a draft's state reads to the rep: a short label, a tone for the badge and, where it
// matters, the reason ("why not yet, and when").
import type { DraftRow_Serialize as DraftRow, Problem } from "./bindings";

export type Tone = "neutral" | "progress" | "ok" | "warn" | "error";

const problemText: Record<Problem, string> = {
  needs_recipient: "Needs recipient",
  invalid_recipient: "Invalid recipient address",
  needs_subject: "Needs subject",
  subject_too_long: "Subject too long",
  body_too_large: "Body too large",
  empty_body: "Empty body",
};

export function statusOf(d: Pick<DraftRow, "state" | "problem" | "document_id" | "reason">): { label: string; tone: Tone } {
  switch (d.state) {
    case "pending":
      return d.problem ? { label: problemText[d.problem], tone: "warn" } : { label: "To review", tone: "neutral" };
    case "approved":
      return { label: "Approved · sending", tone: "progress" };
    case "sending":
      return { label: "Sending…", tone: "progress" };
    case "sent":
      return { label: d.reason ? "Sent · archive pending" : "Sent · archiving…", tone: d.reason ? "warn" : "progress" };
    case "archived":
    case "done":
      return { label: d.document_id != null ? `Sent · archived as document ${d.document_id}` : "Sent · archived", tone: "ok" };
    case "failed":
      return { label: "Not sent", tone: "error" };
    case "needs_decision":
      return { label: "Needs your decision", tone: "warn" };
  }
}

export function canApprove(d: Pick<DraftRow, "state" | "problem">): boolean {
  return d.state === "pending" && !d.problem;
}
