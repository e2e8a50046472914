// The UI's languages: the dictionaries (in `messages/`, one file per language; `en` defines the
// keys, `de` must have the same ones), lookup with placeholders, and the language to start in.
// Placeholders are `{name}`; `**text**` is bold and `*text*` emphasis where Rich.svelte renders
// the string. German addresses the reader with "Sie".
//
// The core's reasons come as data and are worded here; the causes and actions of a check are
// translated from the core's English in findings.ts; evidence and a server's reply are shown
// as they came.

import { de } from "./messages/de";
import { en, type Dict, type Key } from "./messages/en";

export { en, de };
export type { Dict, Key };
export type Lang = "en" | "de";
export type Params = Record<string, string | number>;

export const dictionaries: Record<Lang, Dict> = { en, de };
export const languages: Lang[] = ["en", "de"];

export function isKey(k: string): k is Key {
  return Object.prototype.hasOwnProperty.call(en, k);
}

/** Fills `{name}` placeholders; an unknown placeholder stays as it is. */
export function format(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Looks up a key in one language; `lang` says which (for words kept outside the dictionary,
 * such as the error codes' in messages/errors-*.ts). */
export type Translate = ((key: Key, params?: Params) => string) & { readonly lang?: Lang };

export function translator(lang: Lang): Translate {
  const dict = dictionaries[lang] ?? en;
  return Object.assign((key: Key, params?: Params) => format(dict[key] ?? en[key] ?? key, params), { lang });
}

/** The saved choice if valid, else the first supported browser language, else English. */
export function detectLang(stored: string | null | undefined, browser: readonly string[]): Lang {
  if (stored === "en" || stored === "de") return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split(/[-_]/)[0];
    if (base === "de" || base === "en") return base;
  }
  return "en";
}

/** The BCP 47 tag for dates and numbers. */
export function localeTag(lang: Lang): string {
  return lang === "de" ? "de-DE" : "en-GB";
}
