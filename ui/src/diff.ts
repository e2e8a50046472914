// A line diff between two versions of a draft (the AI's, the rep's edits, the approved text),
// for the audit timeline: jsdiff's `diffArrays` over the lines (Myers' algorithm), one entry
// per line. Line endings are made LF first, so a CRLF copy of the same text shows no change.
// Past `MAX_EDITS` changed lines the whole text shows as removed and added (no UI freeze on
// a rewrite of thousands of lines).

import { diffArrays } from "diff";

export type DiffLine = { op: "same" | "add" | "del"; text: string };

const MAX_EDITS = 1000;

function split(s: string): string[] {
  if (s === "") return [];
  return s.replace(/\r\n/g, "\n").split("\n");
}

export function lineDiff(before: string, after: string): DiffLine[] {
  const [a, b] = [split(before), split(after)];
  const parts = diffArrays(a, b, { maxEditLength: MAX_EDITS });
  if (!parts) return [...a.map((text) => ({ op: "del" as const, text })), ...b.map((text) => ({ op: "add" as const, text }))];
  const out: DiffLine[] = [];
  for (const part of parts) {
    const op = part.added ? "add" : part.removed ? "del" : "same";
    for (const text of part.value) out.push({ op, text });
  }
  return out;
}

/** How many lines were added and removed. */
export function diffStats(d: readonly DiffLine[]): { added: number; removed: number } {
  return { added: d.filter((l) => l.op === "add").length, removed: d.filter((l) => l.op === "del").length };
}

/** Unchanged runs longer than `context` lines on both sides of a change are folded to a marker. */
export function fold(d: readonly DiffLine[], context = 2): (DiffLine | { op: "fold"; count: number })[] {
  const keep = d.map(() => false);
  d.forEach((l, i) => {
    if (l.op !== "same") for (let k = Math.max(0, i - context); k <= Math.min(d.length - 1, i + context); k++) keep[k] = true;
  });
  const out: (DiffLine | { op: "fold"; count: number })[] = [];
  let skipped = 0;
  d.forEach((l, i) => {
    if (keep[i]) {
      if (skipped) out.push({ op: "fold", count: skipped });
      skipped = 0;
      out.push(l);
    } else skipped++;
  });
  if (skipped) out.push({ op: "fold", count: skipped });
  return out;
}
