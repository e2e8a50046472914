import { describe, expect, it } from "vitest";
import { de, detectLang, en, format, translator } from "./i18n";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const markup = (s: string) => (s.match(/\*/g) ?? []).length;

describe("dictionaries", () => {
  it("English and German have exactly the same keys", () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });
  it("no value is empty", () => {
    for (const [lang, dict] of Object.entries({ en, de })) {
      for (const [k, v] of Object.entries(dict)) expect(v.trim(), `${lang} ${k}`).not.toBe("");
    }
  });
  it("both languages use the same placeholders and the same amount of markup", () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(de[k]), k).toEqual(placeholders(en[k]));
      expect(markup(de[k]), k).toBe(markup(en[k]));
    }
  });
  it("German addresses the reader formally", () => {
    for (const [k, v] of Object.entries(de)) expect(v, k).not.toMatch(/\b(du|dich|dir|dein\w*)\b/i);
  });
});

describe("translator", () => {
  it("fills placeholders", () => {
    expect(translator("en")("state.archivedAs", { id: 412 })).toBe("Sent · archived as document 412");
    expect(translator("de")("state.archivedAs", { id: 412 })).toBe("Gesendet · archiviert als Dokument 412");
    expect(format("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });
});

describe("detectLang", () => {
  it("prefers the saved choice, then the browser, then English", () => {
    expect(detectLang("de", ["en-US"])).toBe("de");
    expect(detectLang(null, ["de-AT", "en"])).toBe("de");
    expect(detectLang(null, ["fr-FR", "en-GB"])).toBe("en");
    expect(detectLang("xx", ["fr"])).toBe("en");
    expect(detectLang(undefined, [])).toBe("en");
  });
});
