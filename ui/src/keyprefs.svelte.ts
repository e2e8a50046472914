// Whether the single-key shortcuts (j, k, a, e, r, /, ?) are on. WCAG 2.1.4 asks that they can
// be turned off: with speech input or a stray key, "a" would approve a draft. On by default,
// remembered in localStorage; the switch is in the shortcut help.

const STORAGE_KEY = "so-outbox.single-key-shortcuts";

function load(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

export const keyPrefs = $state({ singleKeys: load() });

export function setSingleKeys(on: boolean) {
  keyPrefs.singleKeys = on;
  try {
    localStorage.setItem(STORAGE_KEY, on ? "on" : "off");
  } catch {
    // Not remembered (storage unavailable): on for this session only.
  }
}
