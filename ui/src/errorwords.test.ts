import { describe, expect, it } from "vitest";
import { errorText } from "./errors";
import { translator } from "./i18n";
import { errorDe } from "./messages/errors-de";
import { errorEn } from "./messages/errors-en";

describe("error codes in words", () => {
  it("says what the code means in the UI's language, then the core's message and the code", () => {
    const e = { code: "config_invalid" as const, message: "the SMTP port must be 1–65535" };
    expect(errorText(e, translator("de"))).toBe("Eine Einstellung ist nicht gültig. Details: the SMTP port must be 1–65535 (Code config_invalid)");
    expect(errorText(e, translator("en"))).toBe("A setting is not valid. Details: the SMTP port must be 1–65535 (code config_invalid)");
    expect(errorText({ code: "no_diagnostics", message: "" }, translator("de"))).toBe("Führen Sie zuerst die Diagnose aus.");
  });

  it("has German for every code, different from the English", () => {
    expect(Object.keys(errorDe).sort()).toEqual(Object.keys(errorEn).sort());
    for (const [code, words] of Object.entries(errorDe)) expect(words, code).not.toBe(errorEn[code as keyof typeof errorEn]);
  });
});
