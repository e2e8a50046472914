// The outbox's keyboard shortcuts. `shortcutFor` decides from a key event alone, so it is
// tested without a window.
export type Shortcut = "next" | "prev" | "approve" | "edit" | "reject" | "search" | "help";

export const shortcuts: { key: string; action: Shortcut }[] = [
  { key: "j", action: "next" },
  { key: "k", action: "prev" },
  { key: "a", action: "approve" },
  { key: "e", action: "edit" },
  { key: "r", action: "reject" },
  { key: "/", action: "search" },
  { key: "?", action: "help" },
];

export type KeyLike = {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  isComposing?: boolean;
  target?: EventTarget | { tagName?: string; isContentEditable?: boolean; type?: string } | null;
};

/** Whether the event comes from a place where the rep types (inputs, text areas, selects, editable text). */
export function isTyping(target: KeyLike["target"]): boolean {
  if (!target || typeof target !== "object") return false;
  const el = target as { tagName?: string; isContentEditable?: boolean; type?: string };
  if (el.isContentEditable) return true;
  const tag = (el.tagName ?? "").toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    // A checkbox or a button does not take text; j/k still work after ticking a row.
    const type = (el.type ?? "text").toLowerCase();
    return !["checkbox", "radio", "button", "submit", "reset", "file", "range", "color"].includes(type);
  }
  return false;
}

/** The shortcut `e` stands for; none while single-key shortcuts are turned off (`singleKeys`). */
export function shortcutFor(e: KeyLike, singleKeys = true): Shortcut | null {
  if (!singleKeys) return null;
  if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return null;
  if (isTyping(e.target)) return null;
  return shortcuts.find((s) => s.key === e.key)?.action ?? null;
}

/** The id `step` rows away from `current` in `ids` (clamped); the first row when nothing is selected. */
export function moveSelection(ids: readonly number[], current: number | null, step: number): number | null {
  if (ids.length === 0) return null;
  const i = current === null ? -1 : ids.indexOf(current);
  if (i === -1) return ids[step < 0 ? ids.length - 1 : 0];
  return ids[Math.min(ids.length - 1, Math.max(0, i + step))];
}

/** How far a key moves through the list while it has the focus: arrows one row, Page Up/Down
 * eight, Home/End to the first/last (as `±total`); null for any other key or with a modifier. */
export function listStep(e: Pick<KeyLike, "key" | "altKey" | "ctrlKey" | "metaKey">, total: number): number | null {
  if (e.altKey || e.ctrlKey || e.metaKey) return null;
  const steps = new Map([
    ["ArrowDown", 1],
    ["ArrowUp", -1],
    ["PageDown", 8],
    ["PageUp", -8],
    ["Home", -total],
    ["End", total],
  ]);
  return steps.get(e.key) ?? null;
}
