// Turns a rejected command into text. Commands reject with `{ code, message }`; Tauri itself
// (an ACL denial, a bad argument) rejects with a string.
import type { CommandError } from "./bindings";

export function isCommandError(e: unknown): e is CommandError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

export function errorText(e: unknown): string {
  if (isCommandError(e)) return e.message;
  return String(e);
}
