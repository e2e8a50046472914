import { describe, expect, it } from "vitest";
import { attentionText } from "./attention";
import type { AttentionItem } from "./bindings";
import { translator } from "./i18n";

const en = translator("en");
const de = translator("de");
const refused: AttentionItem = { decide: false, subject: "Angebot Lager", to: "jonas@mueller.example", words: "554 5.7.1 Recipient address rejected" };
const unknown: AttentionItem = { decide: true, subject: "Termin", to: "jonas@mueller.example", words: null };

describe("attentionText", () => {
  it("names one message with the server's words, and counts many, in the UI's language", () => {
    expect(attentionText([refused], en)).toBe("“Angebot Lager” to jonas@mueller.example could not be sent: 554 5.7.1 Recipient address rejected");
    expect(attentionText([unknown], en)).toBe("“Termin” to jonas@mueller.example may or may not have been sent: please decide in SuperOffice Outbox.");
    expect(attentionText([refused, { ...refused, subject: "Zweite" }], en)).toBe("2 emails could not be sent. Open SuperOffice Outbox for the reasons.");
    expect(attentionText([refused, unknown], en)).toBe("1 email could not be sent and 1 needs your decision.");
    expect(attentionText([refused], de)).toBe("„Angebot Lager“ an jonas@mueller.example konnte nicht gesendet werden: 554 5.7.1 Recipient address rejected");
    expect(attentionText([refused, { ...refused, subject: "Zweite" }], de)).toBe(
      "2 E-Mails konnten nicht gesendet werden. Die Gründe stehen in SuperOffice Outbox.",
    );
    expect(attentionText([refused, unknown], de)).toBe("1 E-Mail konnte nicht gesendet werden, 1 braucht Ihre Entscheidung.");
    expect(attentionText([refused, refused, unknown, unknown], de)).toBe("2 E-Mails konnten nicht gesendet werden, 2 brauchen Ihre Entscheidung.");
    expect(attentionText([{ ...refused, subject: null, words: null }], en)).toBe("“(no subject)” to jonas@mueller.example could not be sent.");
    expect(attentionText([], en)).toBeNull();
  });
});
