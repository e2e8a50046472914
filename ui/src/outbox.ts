// Small helpers for the outbox list: its views in order, a row's label and reason line, times.
import type { DraftRow_Serialize as DraftRow, View } from "./bindings";
import type { Translate } from "./i18n";
import { reasonText } from "./status";

export const VIEWS: View[] = ["to_review", "scheduled", "needs_decision", "failed", "sent", "snoozed", "rejected", "all"];

type ReasonFields = Pick<DraftRow, "state" | "problem" | "reason" | "smtp_reply" | "send_after_ms" | "attempts"> & Partial<Pick<DraftRow, "reason_why">>;

/** The second half of "why not yet, and when": the core's reason, or what the state means. */
export function rowReason(d: ReasonFields, t: Translate, now: number = Date.now()): string {
  if (d.reason) return reasonText(d, t) ?? d.reason;
  switch (d.state) {
    case "pending":
      return d.problem ? t("reason.fixWithEdit") : "";
    case "approved":
      return d.send_after_ms != null && d.send_after_ms > now ? t("reason.undoWindow") : t("reason.next");
    case "sending":
      return t("reason.sending");
    case "needs_decision":
      return t("reason.unknownOutcome");
    case "sent":
    case "archived":
    case "done":
      return d.smtp_reply ?? "";
    default:
      return "";
  }
}

/** "Jonas Weber — Your offer": who and what, for a checkbox's label and the batch's failures. */
export function labelOf(d: Pick<DraftRow, "recipient_name" | "recipient_email" | "subject">, t: Translate): string {
  return `${d.recipient_name || d.recipient_email || t("outbox.noPerson")} — ${d.subject ?? t("outbox.noSubject")}`;
}

/** "14:05" for today, else "25 Nov" (or the year too when not this year). */
export function shortTime(iso: string | null, now: number, tag: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) return d.toLocaleTimeString(tag, { hour: "2-digit", minute: "2-digit" });
  if (d.getFullYear() === n.getFullYear()) return d.toLocaleDateString(tag, { day: "numeric", month: "short" });
  return d.toLocaleDateString(tag, { day: "numeric", month: "short", year: "numeric" });
}

/** "2026-11-28 14:05:09" from an RFC 3339 time, in local time. */
export function longTime(iso: string | null, tag: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(tag, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
