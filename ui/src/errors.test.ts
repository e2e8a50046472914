import { describe, expect, it } from "vitest";
import { attempt, errorText, signInErrorText } from "./errors";
import { translator } from "./i18n";

const en = translator("en");
const de = translator("de");
const refused = {
  code: "registration_refused",
  message:
    "sign-in failed: SuperOffice refused the sign-in request (HTTP 400: invalid redirect_uri). The app registration must allow the redirect address http://127.0.0.1:53682 … Who can fix it: the owner of the app registration in the SuperOffice Developer Portal.",
};

describe("signInErrorText", () => {
  it("shows the core's whole message in English", () => {
    expect(signInErrorText(refused, en, "en")).toEqual({ text: errorText(refused, en), detail: null });
  });
  it("explains the refusals in German by code and keeps the message, with the server's words, as the detail", () => {
    const r = signInErrorText(refused, de, "de");
    expect(r.text).toContain("App-Registrierung");
    expect(r.detail).toContain("invalid redirect_uri");
    expect(r.detail).toContain("registration_refused");
    expect(signInErrorText({ code: "authorize_refused", message: "x (invalid_client)" }, de, "de").text).toContain("Browser");
  });
  it("leaves other failures as they are", () => {
    const other = { code: "wrong_tenant", message: "signed in to Cust1 instead of Cust2" };
    expect(signInErrorText(other, de, "de")).toEqual({ text: errorText(other, de), detail: null });
    expect(signInErrorText("plain", de, "de").text).toBe("plain");
  });
});

describe("attempt", () => {
  it("sets the busy flag around the run and says it finished", async () => {
    const seen: string[] = [];
    const ok = await attempt(async () => seen.push("run"), { busy: (on) => seen.push(on ? "busy" : "idle"), onError: (m) => seen.push(m) });
    expect(ok).toBe(true);
    expect(seen).toEqual(["busy", "run", "idle"]);
  });
  it("shows a command error as errorText words it, keeps what was thrown, and clears the flag", async () => {
    const failure = { code: "no_diagnostics", message: "run the diagnostics first" };
    let busy = false;
    let shown: [string, unknown] | null = null;
    const ok = await attempt(
      async () => {
        expect(busy).toBe(true);
        throw failure;
      },
      { busy: (on) => (busy = on), onError: (m, e) => (shown = [m, e]) },
    );
    expect(ok).toBe(false);
    expect(busy).toBe(false);
    expect(shown).toEqual([errorText(failure), failure]);
  });
  it("catches a run that throws before its first await", async () => {
    let shown = "";
    const ok = await attempt(
      () => {
        throw new Error("boom");
      },
      { onError: (m) => (shown = m) },
    );
    expect(ok).toBe(false);
    expect(shown).toBe("boom");
  });
});
