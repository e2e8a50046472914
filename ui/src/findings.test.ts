import { describe, expect, it } from "vitest";
import { actionText, causeText, recommendationText } from "./findings";
import { actionDe, causeDe } from "./messages/findings-de";
import { actionEn, causeEn } from "./messages/findings-en";

describe("findings", () => {
  it("words every code in each language, with the values the core sent", () => {
    expect(causeText({ code: "email_agent_not_granted" }, "en")).toContain("token type is not the cause");
    expect(causeText({ code: "email_agent_not_granted" }, "de")).toContain("nicht freigegeben");
    expect(actionText({ code: "add_inbox_address_to_card", address: "anna@x.example" }, "de")).toBe(
      "Tragen Sie anna@x.example als erste E-Mail auf der Kontaktkarte des Vertriebsmitarbeiters ein.",
    );
    expect(causeText({ code: "spf_does_not_authorize", domain: "roboplanet.example", strict: true }, "de")).toContain("Quarantäne");
    expect(causeText({ code: "spf_does_not_authorize", domain: "roboplanet.example", strict: false }, "de")).toBe(
      "Der SPF-Eintrag von roboplanet.example erlaubt die Adresse des Relays nicht.",
    );
    expect(causeText({ code: "shipments_are_bulk", caller: "system_user" }, "de")).toContain("Lizenzen des Systembenutzers");
    expect(causeText({ code: "shipments_are_bulk", caller: "rep" }, "en")).toContain("the rep's licences");
    expect(actionText({ code: "delete_test_document", id: 42 }, "en")).toBe('Delete the document 42 "SuperOffice Outbox diagnostics test" by hand.');
    expect(recommendationText("no_smtp", "de")).toBe("kein funktionierendes SMTP-Relay");
    expect(causeText(null, "de")).toBeNull();
  });

  it("has the same codes in both languages, and German that is not the English", () => {
    expect(Object.keys(causeDe).sort()).toEqual(Object.keys(causeEn).sort());
    expect(Object.keys(actionDe).sort()).toEqual(Object.keys(actionEn).sort());
    const sample = { domain: "x.example", address: "a@x.example", first: "b@x.example", id: 1, caller: "rep", strict: false };
    for (const [code, f] of Object.entries(causeDe))
      expect((f as (p: unknown) => string)(sample), code).not.toBe((causeEn as Record<string, (p: unknown) => string>)[code](sample));
    for (const [code, f] of Object.entries(actionDe))
      expect((f as (p: unknown) => string)(sample), code).not.toBe((actionEn as Record<string, (p: unknown) => string>)[code](sample));
  });
});
