// How a draft's state reads to the rep: a short label, a tone for the badge and, where it
// matters, the reason ("why not yet, and when").
import type { DraftRow_Serialize as DraftRow, Problem, SendChannel } from "./bindings";

export type Tone = "neutral" | "progress" | "ok" | "warn" | "error";

const problemText: Record<Problem, string> = {
  needs_recipient: "Needs recipient",
  invalid_recipient: "Invalid recipient address",
  needs_subject: "Needs subject",
  subject_too_long: "Subject too long",
  body_too_large: "Body too large",
  empty_body: "Empty body",
};

type StatusFields = Pick<DraftRow, "state" | "problem" | "document_id" | "reason" | "send_after_ms" | "next_attempt_ms" | "snoozed_until_ms" | "retryable">;

/** "in 8 s", "in 4 min", "at 14:05" for a time `at` (ms) seen from `now` (ms). */
export function when(at: number, now: number): string {
  const s = Math.max(0, Math.round((at - now) / 1000));
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  const d = new Date(at);
  return `at ${d.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" })}`;
}

export function statusOf(d: StatusFields, now: number = Date.now()): { label: string; tone: Tone } {
  switch (d.state) {
    case "pending":
      return d.problem ? { label: problemText[d.problem], tone: "warn" } : { label: "To review", tone: "neutral" };
    case "approved":
      return d.send_after_ms != null && d.send_after_ms > now
        ? { label: `Approved · sends ${when(d.send_after_ms, now)}`, tone: "progress" }
        : { label: "Approved · sending", tone: "progress" };
    case "sending":
      return { label: "Sending…", tone: "progress" };
    case "sent":
      return { label: d.reason ? "Sent · archive pending" : "Sent · archiving…", tone: d.reason ? "warn" : "progress" };
    case "archived":
    case "done":
      return { label: d.document_id != null ? `Sent · archived as document ${d.document_id}` : "Sent · archived", tone: "ok" };
    case "failed":
      return d.retryable && d.next_attempt_ms != null
        ? { label: `Not sent · retrying ${when(d.next_attempt_ms, now)}`, tone: "warn" }
        : { label: "Not sent", tone: "error" };
    case "needs_decision":
      return { label: "Needs your decision", tone: "warn" };
    case "rejected":
      return { label: "Rejected", tone: "neutral" };
    case "snoozed":
      return { label: d.snoozed_until_ms != null ? `Snoozed · back ${when(d.snoozed_until_ms, now)}` : "Snoozed", tone: "neutral" };
  }
}

export const channelLabel: Record<SendChannel, string> = {
  email_agent: "SuperOffice email agent",
  smtp: "SMTP relay",
  handoff: "Your mail program",
};

export function canApprove(d: Pick<DraftRow, "state" | "problem">): boolean {
  return d.state === "pending" && !d.problem;
}
