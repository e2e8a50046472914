// The language the UI speaks, switchable at runtime and remembered in localStorage. Components
// call `t(key)` in their markup; because `t` reads `locale.lang`, they update when it changes.
import { detectLang, localeTag, translator, type Key, type Lang, type Params } from "./i18n";

const STORAGE_KEY = "so-outbox.lang";

function initial(): Lang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // no storage: fall back to the browser's language
  }
  const browser = typeof navigator === "undefined" ? [] : navigator.languages?.length ? navigator.languages : [navigator.language];
  return detectLang(stored, browser);
}

export const locale = $state<{ lang: Lang }>({ lang: initial() });

if (typeof document !== "undefined") document.documentElement.lang = locale.lang;

export function setLang(lang: Lang) {
  locale.lang = lang;
  document.documentElement.lang = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // the choice then lasts until the app closes
  }
}

export function t(key: Key, params?: Params): string {
  return translator(locale.lang)(key, params);
}

/** The current translator, for pure helpers that take one (status.ts, diagnostics.ts). */
export function tr() {
  return translator(locale.lang);
}

export function dateTag(): string {
  return localeTag(locale.lang);
}
