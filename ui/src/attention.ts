// The OS notification for messages that need the rep (the core's `NeedsAttention` event, sent
// while the window is not focused), worded in the UI's language: the one message by subject,
// recipient and the server's own words, or how many.
import type { AttentionItem } from "./bindings";
import type { Translate } from "./i18n";

const count = (n: number) => (n === 1 ? "one" : "other");

export function attentionText(items: AttentionItem[], t: Translate): string | null {
  const decide = items.filter((i) => i.decide);
  const failed = items.filter((i) => !i.decide);
  const one = (i: AttentionItem) => t("attention.one", { subject: (i.subject ?? t("attention.noSubject")).slice(0, 80), to: i.to });
  const emails = (n: number) => t(`attention.emails.${count(n)}`, { n });
  if (decide.length === 0 && failed.length === 0) return null;
  if (failed.length === 0)
    return decide.length === 1 ? t("attention.decideOne", { what: one(decide[0]) }) : t("attention.decideMany", { emails: emails(decide.length) });
  if (decide.length === 0) {
    if (failed.length > 1) return t("attention.failedMany", { emails: emails(failed.length) });
    const words = (failed[0].words ?? "").slice(0, 160);
    return words ? t("attention.failedOneWords", { what: one(failed[0]), words }) : t("attention.failedOne", { what: one(failed[0]) });
  }
  return t("attention.both", {
    failed: t(`attention.failedCount.${count(failed.length)}`, { n: failed.length }),
    decide: t(`attention.decideCount.${count(decide.length)}`, { n: decide.length }),
  });
}
