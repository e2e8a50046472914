import { describe, expect, it } from "vitest";
import { findingText } from "./findings";

// The core's diagnostics sources, as text (Vite reads them at test time).
const coreSources: Record<string, string> = import.meta.glob("../../src-tauri/crates/diagnostics/src/*.rs", { query: "?raw", import: "default", eager: true });

/** Every string literal the core passes as a check's cause or action (`.cause = Some(…)`,
 * `.action = Some(…)`, `unknown(…)`'s owner/action arguments, and the `(status, cause, owner,
 * action)` tuples a check picks by `match`). */
function coreTexts(): string[] {
  const out: string[] = [];
  for (const src of Object.values(coreSources)) {
    const starts = [...src.matchAll(/\.(cause|action) = Some\(|\bunknown\(|=>\s*\{?\s*\(\s*Status::/g)].map((m) => (m.index ?? 0) + m[0].length);
    for (const start of starts) {
      let depth = 1;
      let i = start;
      let inString = false;
      for (; i < src.length && depth > 0; i++) {
        const c = src[i];
        if (inString) {
          if (c === "\\") i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === "(") depth++;
        else if (c === ")") depth--;
      }
      for (const m of src.slice(start, i).matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
        const text = m[1].replace(/\\"/g, '"');
        // Sentences only (not the words a cause is chosen by, such as "535" or "tls").
        if (/^[A-Z`{]/.test(text) && text.length > 12 && /[.)]$/.test(text)) out.push(text);
      }
    }
  }
  return out;
}

describe("findingText", () => {
  it("has German for every cause and action the core writes", () => {
    const texts = coreTexts();
    expect(texts.length).toBeGreaterThan(50);
    const missing = texts
      // Values the core fills in: a sample for named ones; `{}` phrases are checked below.
      .filter((t) => !/\{\}/.test(t))
      .map((t) => t.replace(/\{[a-z_]+(:\?)?\}/g, "example.org"))
      .filter((t) => findingText(t, "de") === t);
    expect(missing).toEqual([]);
  });

  it("fills in the values the core put in, and keeps unknown texts as they are", () => {
    expect(findingText("Add anna@x.example as the first email on the rep's contact card.", "de")).toBe(
      "Tragen Sie anna@x.example als erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters ein.",
    );
    expect(findingText("roboplanet.example lacks a DMARC record: receivers may file the rep's mail as spam.", "de")).toBe(
      "roboplanet.example hat keinen DMARC-Eintrag: Empfänger können die E-Mails des Vertriebsmitarbeiters als Spam einordnen.",
    );
    expect(findingText("roboplanet.example's SPF does not authorize the relay's address, and DMARC tells receivers to reject or quarantine such mail.", "de")).toContain("Quarantäne");
    expect(findingText("roboplanet.example's SPF does not authorize the relay's address.", "de")).toBe("Der SPF-Eintrag von roboplanet.example erlaubt die Adresse des Relays nicht.");
    for (const [who, wer] of [["the system user's licences", "Lizenzen des Systembenutzers"], ["the rep's licences", "Lizenzen des Vertriebsmitarbeiters"]]) {
      const en = `Shipments are Marketing bulk mailings (Marketing licence and rights, sent through SuperOffice's mail service); no documented REST operation sends one personal email with them, so ${who} says nothing about 1:1 sending. The seed's \`POST /Shipment\` (500) called an operation that is not documented; this check does not call it.`;
      expect(findingText(en, "de")).toContain(wer);
    }
    // The core's marketing cause names whose licences with "{}": both fillings have German.
    const marketing = coreTexts().filter((t) => t.startsWith("Shipments are") && t.includes("{}"));
    expect(marketing.length).toBeGreaterThan(0);
    for (const t of marketing) {
      for (const who of ["the system user's licences", "the rep's licences"]) expect(findingText(t.replace("{}", who), "de")).not.toBe(t.replace("{}", who));
    }
    // The intake check's tuples are found, and worded.
    expect(coreTexts()).toContain("SuperOffice refused the app's intake query, so no drafts arrive.");
    expect(findingText("Something the table does not know.", "de")).toBe("Something the table does not know.");
    expect(findingText("The relay refused the login.", "en")).toBe("The relay refused the login.");
    expect(findingText(null, "de")).toBe(null);
  });
});
