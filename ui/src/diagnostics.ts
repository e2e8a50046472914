// The diagnostics screen's logic: the two columns aligned by check id, and words for the
// core's codes.
import type { CheckId, Check_Serialize as Check, Owner, Status } from "./bindings";
import type { Key, Translate } from "./i18n";

/** The order the matrix shows checks in; ids not listed follow in the order they came. */
export const CHECK_ORDER: CheckId[] = [
  "tenant_state",
  "sign_in",
  "system_sign_in",
  "identity",
  "associate_me",
  "archive_documents",
  "archive_write",
  "email_template",
  "task_handoff",
  "intake",
  "email_agent",
  "inbox_account",
  "crmscript",
  "marketing",
  "mailbox",
  "smtp_relay",
  "sender_domain",
  "test_email",
  "keychain",
];

export type Row = { id: CheckId; rep: Check | null; system: Check | null };

/** One row per check id found in either column, in CHECK_ORDER. */
export function alignChecks(rep: readonly Check[], system: readonly Check[] | null): Row[] {
  const ids: CheckId[] = [];
  for (const c of [...rep, ...(system ?? [])]) if (!ids.includes(c.id)) ids.push(c.id);
  const rank = (id: CheckId) => {
    const i = CHECK_ORDER.indexOf(id);
    return i === -1 ? CHECK_ORDER.length + ids.indexOf(id) : i;
  };
  ids.sort((a, b) => rank(a) - rank(b));
  return ids.map((id) => ({
    id,
    rep: rep.find((c) => c.id === id) ?? null,
    system: system?.find((c) => c.id === id) ?? null,
  }));
}

export const statusIcon: Record<Status, string> = { pass: "✓", warn: "!", fail: "✕", unknown: "?" };

export function statusWord(s: Status, t: Translate): string {
  return t(`status.${s}`);
}

export function ownerWord(o: Owner, t: Translate): string {
  return t(`owner.${o}`);
}

/** A check's title (every check has one: the key's type says so). */
export function checkTitle(id: CheckId, t: Translate): string {
  const key: Key = `check.${id}`;
  return t(key);
}

/** Only http(s) links are shown as documentation (and never opened in the app's window). */
export function docsUrl(docs: string | null): string | null {
  if (!docs) return null;
  try {
    const u = new URL(docs);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}
