import { describe, expect, it } from "vitest";
import { filterDrafts, fold } from "./search";

const rows = [
  { id: 1, recipient_name: "Jonas Weber", recipient_email: "jonas@mueller.example", company: "Müller Logistik GmbH", subject: "Ihr Lager Nord: Angebot" },
  { id: 2, recipient_name: "Sarah Collins", recipient_email: null, company: "Northwind Ltd", subject: "Follow-up on the demo" },
  { id: 3, recipient_name: "Erik Groß", recipient_email: "erik@gross.example", company: "Groß & Söhne", subject: null },
];

describe("filterDrafts", () => {
  it("returns everything for an empty query", () => {
    expect(filterDrafts(rows, "  ").map((r) => r.id)).toEqual([1, 2, 3]);
  });
  it("matches recipient, email, company and subject, case-insensitively", () => {
    expect(filterDrafts(rows, "weber").map((r) => r.id)).toEqual([1]);
    expect(filterDrafts(rows, "MUELLER.example").map((r) => r.id)).toEqual([1]);
    expect(filterDrafts(rows, "northwind").map((r) => r.id)).toEqual([2]);
    expect(filterDrafts(rows, "demo").map((r) => r.id)).toEqual([2]);
  });
  it("ignores accents and folds ß", () => {
    expect(filterDrafts(rows, "muller").map((r) => r.id)).toEqual([1]);
    expect(filterDrafts(rows, "gross sohne").map((r) => r.id)).toEqual([3]);
  });
  it("needs every word", () => {
    expect(filterDrafts(rows, "lager weber").map((r) => r.id)).toEqual([1]);
    expect(filterDrafts(rows, "lager collins")).toEqual([]);
  });
  it("copes with missing email and subject", () => {
    expect(fold("Straße")).toBe("strasse");
    expect(filterDrafts(rows, "erik").map((r) => r.id)).toEqual([3]);
  });
});
