// Window math for the virtualized outbox list: rows have a fixed height, so which rows are on
// screen follows from the scroll position alone. Only those (plus an overscan on each side)
// are rendered, and only their pages are fetched.

export type Range = { start: number; end: number }; // [start, end)

/** The rows to render for a viewport, with `overscan` extra rows above and below. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 6): Range {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewport) / rowHeight) + 1;
  const start = Math.max(0, Math.min(total - 1, first) - overscan);
  const end = Math.min(total, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

/** The scroll position that shows row `index` whole, moving as little as possible (`scrollTop` when it already is). */
export function scrollToShow(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewport) return Math.max(0, bottom - viewport);
  return scrollTop;
}

/** The page numbers (of `pageSize` rows) that hold the rows of `r`. */
export function pagesOf(r: Range, pageSize: number): number[] {
  if (r.end <= r.start) return [];
  const out: number[] = [];
  for (let p = Math.floor(r.start / pageSize); p <= Math.floor((r.end - 1) / pageSize); p++) out.push(p);
  return out;
}
