// Turns a rejected command into text. Commands reject with `{ code, message }`; Tauri itself
// (an ACL denial, a bad argument) rejects with a string. `errorText` is the one place an error
// is worded; `attempt` is the one way a component runs a command and shows its failure.
import type { CommandError, ErrorCode } from "./bindings";
import { errorDe } from "./messages/errors-de";
import { errorEn } from "./messages/errors-en";
import { translator, type Lang, type Translate } from "./i18n";
import { tr } from "./locale.svelte";

export function isCommandError(e: unknown): e is CommandError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

const headlines: Record<Lang, Record<ErrorCode, string>> = { en: errorEn, de: errorDe };

/** A command error in words: what its code means in the UI's language, then the core's own
 * message (the field, file or server words it names) and the code, e.g. "Run the diagnostics
 * first. Details: no diagnosis yet (code no_diagnostics)". */
export function errorText(e: unknown, t: Translate = translator("en")): string {
  if (isCommandError(e)) {
    const headline = headlines[t.lang ?? "en"][e.code];
    if (!headline) return t("error.withCode", { message: e.message, code: e.code });
    return e.message ? t("error.detail", { headline, message: e.message, code: e.code }) : headline;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Sign-in failures the core explains in a long English message that names the fix. */
const EXPLAINED_SIGN_IN = ["registration_refused", "authorize_refused"] as const;
type ExplainedSignIn = (typeof EXPLAINED_SIGN_IN)[number];

const isExplained = (code: string): code is ExplainedSignIn => (EXPLAINED_SIGN_IN as readonly string[]).includes(code);

/** A failed sign-in for the sign-in card. In English the core's message says it all; in
 * another language the card explains the code itself and shows the message (with the
 * server's own words in it) as the detail. */
export function signInErrorText(e: unknown, t: Translate, lang: Lang): { text: string; detail: string | null } {
  if (lang !== "en" && isCommandError(e) && isExplained(e.code)) {
    return { text: t(`signin.refused.${e.code}`), detail: e.message ? t("signin.message", { message: errorText(e, t) }) : null };
  }
  return { text: errorText(e, t), detail: null };
}

export type AttemptOptions = {
  /** Told `true` before `run` starts and `false` once it has settled (either way). */
  busy?: (on: boolean) => void;
  /** A failure: as shown (`errorText` in the current language) and as thrown. */
  onError: (text: string, error: unknown) => void;
};

/** Runs `run` (a command call and what follows it) with the busy flag on; true when it
 * finished, false when it threw and `onError` was told. */
export async function attempt(run: () => Promise<unknown>, { busy, onError }: AttemptOptions): Promise<boolean> {
  busy?.(true);
  try {
    await run();
    return true;
  } catch (e) {
    onError(errorText(e, tr()), e);
    return false;
  } finally {
    busy?.(false);
  }
}
