// Client-side search over the loaded drafts. Kept pure and separate so it can be swapped for
// the core's server-side search without touching the list.
import type { DraftRow_Serialize as DraftRow } from "./bindings";

export type Searchable = Pick<DraftRow, "recipient_name" | "recipient_email" | "company" | "subject">;

/** Lower case without accents, so "muller" finds "Müller" and "strasse" finds "Straße". */
export function fold(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}/gu, "").replace(/ß/g, "ss").toLowerCase();
}

/** The rows whose recipient, email address, company or subject contain every word of `query`. */
export function filterDrafts<T extends Searchable>(rows: readonly T[], query: string): T[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return rows.slice();
  return rows.filter((r) => {
    const hay = fold([r.recipient_name, r.recipient_email ?? "", r.company, r.subject ?? ""].join(" "));
    return words.every((w) => hay.includes(w));
  });
}
