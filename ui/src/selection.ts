// The bulk selection: checkboxes, shift-click ranges over the list's order, select all.

/** `set` with `id` added or removed. */
export function toggle(set: ReadonlySet<number>, id: number, on: boolean): Set<number> {
  const next = new Set(set);
  if (on) next.add(id);
  else next.delete(id);
  return next;
}

/**
 * Shift-click: every selectable row between the anchor and the clicked row (inclusive) takes
 * the clicked row's new state. `rowAt` gives the row at an index (undefined when not loaded).
 */
export function applyRange<T extends { id: number }>(
  set: ReadonlySet<number>,
  anchor: number,
  index: number,
  on: boolean,
  rowAt: (i: number) => T | undefined,
  selectable: (row: T) => boolean,
): Set<number> {
  const next = new Set(set);
  const [from, to] = anchor <= index ? [anchor, index] : [index, anchor];
  for (let i = from; i <= to; i++) {
    const r = rowAt(i);
    if (!r || !selectable(r)) continue;
    if (on) next.add(r.id);
    else next.delete(r.id);
  }
  return next;
}
