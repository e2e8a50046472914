// Turns a rejected command into text. Commands reject with `{ code, message }`; Tauri itself
// (an ACL denial, a bad argument) rejects with a string.
import type { CommandError } from "./bindings";
import { translator, type Translate } from "./i18n";

export function isCommandError(e: unknown): e is CommandError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** The message in words, with its code when there is one: "run the diagnostics first (code no_diagnostics)". */
export function errorText(e: unknown, t: Translate = translator("en")): string {
  if (isCommandError(e)) return e.code ? t("error.withCode", { message: e.message, code: e.code }) : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
