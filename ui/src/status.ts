// How a draft's state reads to the rep: a short label, a tone for the badge and, where it
// matters, the reason ("why not yet, and when"). Labels come from the given translator
// (English by default).
import type { AgentWhy, ChannelWhy, Reason, DraftRow_Serialize as DraftRow, Problem, SendChannel } from "./bindings";
import { isKey, localeTag, translator, type Lang, type Translate } from "./i18n";

export type Tone = "neutral" | "progress" | "ok" | "warn" | "error";

const english = translator("en");

type StatusFields = Pick<DraftRow, "state" | "problem" | "document_id" | "reason" | "send_after_ms" | "next_attempt_ms" | "snoozed_until_ms" | "retryable">;

/** "in 8 s", "in 4 min", "on Mon 14:05" for a time `at` (ms) seen from `now` (ms). */
export function when(at: number, now: number, t: Translate = english, lang: Lang = "en"): string {
  const s = Math.max(0, Math.round((at - now) / 1000));
  if (s < 60) return t("when.seconds", { n: s });
  if (s < 3600) return t("when.minutes", { n: Math.round(s / 60) });
  const d = new Date(at);
  return t("when.at", { time: d.toLocaleString(localeTag(lang), { weekday: "short", hour: "2-digit", minute: "2-digit" }) });
}

export function problemLabel(p: Problem, t: Translate = english): string {
  return t(`problem.${p}`);
}

export function statusOf(d: StatusFields, now: number = Date.now(), t: Translate = english, lang: Lang = "en"): { label: string; tone: Tone } {
  const w = (at: number) => when(at, now, t, lang);
  switch (d.state) {
    case "pending":
      return d.problem ? { label: problemLabel(d.problem, t), tone: "warn" } : { label: t("state.toReview"), tone: "neutral" };
    case "approved":
      return d.send_after_ms != null && d.send_after_ms > now
        ? { label: t("state.approvedSends", { when: w(d.send_after_ms) }), tone: "progress" }
        : { label: t("state.approvedSending"), tone: "progress" };
    case "sending":
      return { label: t("state.sending"), tone: "progress" };
    case "sent":
      return d.reason ? { label: t("state.sentArchivePending"), tone: "warn" } : { label: t("state.sentArchiving"), tone: "progress" };
    case "archived":
    case "done":
      return { label: d.document_id != null ? t("state.archivedAs", { id: d.document_id }) : t("state.archived"), tone: "ok" };
    case "failed":
      return d.retryable && d.next_attempt_ms != null
        ? { label: t("state.retrying", { when: w(d.next_attempt_ms) }), tone: "warn" }
        : { label: t("state.notSent"), tone: "error" };
    case "needs_decision":
      return { label: t("state.needsDecision"), tone: "warn" };
    case "rejected":
      return { label: t("state.rejected"), tone: "neutral" };
    case "snoozed":
      return { label: d.snoozed_until_ms != null ? t("state.snoozedUntil", { when: w(d.snoozed_until_ms) }) : t("state.snoozed"), tone: "neutral" };
  }
}

export function channelLabel(c: SendChannel | string, t: Translate = english): string {
  const key = `channel.${c}`;
  return isKey(key) ? t(key) : c.replace(/_/g, " ");
}

/** `clause`: a sentence of its own, or after "because" (German puts the verb last there). */
function agentWhyText(a: AgentWhy, t: Translate, clause: "main" | "because"): string {
  const k = clause === "main" ? "why.agent" : "why.agentBecause";
  switch (a.kind) {
    case "available":
      return t(`${k}.available`, { account: a.account });
    case "no_inbox":
      return t(`${k}.noInbox`);
    case "not_granted":
      return t(`${k}.notGranted`, { status: a.status });
    case "untested":
      return t(`${k}.untested`, { detail: a.detail });
  }
}

/** Why a message is where it is, in the rep's language; the server's own words stay as they
 * came. Falls back to the stored English words (the rep's reject reason, older rows). */
export function reasonText(d: { reason: string | null; reason_why?: Reason | null }, t: Translate = english): string | null {
  const w = d.reason_why;
  if (!w) return d.reason;
  return t(`reason.${w.kind}`, "detail" in w ? { detail: w.detail } : undefined);
}

/** A mailbox provider as reps know it (product names, the same in every language). */
export function providerName(p: "microsoft" | "google"): string {
  return p === "microsoft" ? "Microsoft 365" : "Google Workspace";
}

/** Why a channel was chosen, in the rep's language (the core keeps it as data). */
export function channelWhyText(w: ChannelWhy, t: Translate = english): string {
  switch (w.kind) {
    case "initial":
      return t("why.initial");
    case "admin_handoff":
      return t("why.adminHandoff");
    case "admin_agent":
      return t("why.adminAgent", { agent: agentWhyText(w.agent, t, "main") });
    case "admin_smtp":
      return t("why.adminSmtp");
    case "agent":
      return agentWhyText(w.agent, t, "main");
    case "smtp_fallback":
      return t("why.smtpFallback", { agent: agentWhyText(w.agent, t, "because") });
    case "handoff_fallback":
      return t("why.handoffFallback", { agent: agentWhyText(w.agent, t, "because") });
    case "admin_mailbox":
      return t("why.adminMailbox", { provider: providerName(w.provider), address: w.address });
    case "mailbox":
      return t("why.mailbox", { provider: providerName(w.provider), address: w.address });
  }
}

/** A timeline entry's kind in words ("data_started" → "transfer started"). */
export function timelineKind(kind: string, t: Translate = english): string {
  const key = `timeline.${kind}`;
  return isKey(key) ? t(key) : kind.replace(/_/g, " ");
}

export function canApprove(d: Pick<DraftRow, "state" | "problem">): boolean {
  return d.state === "pending" && !d.problem;
}
