// A line diff between two versions of a draft (the AI's, the rep's edits, the approved text),
// for the audit timeline. Longest common subsequence over lines, after trimming the common
// start and end; very large inputs fall back to "all removed, all added" for the middle.

export type DiffLine = { op: "same" | "add" | "del"; text: string };

const MAX_CELLS = 4_000_000;

function split(s: string): string[] {
  if (s === "") return [];
  return s.replace(/\r\n/g, "\n").split("\n");
}

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = split(before);
  const b = split(after);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const head: DiffLine[] = a.slice(0, pre).map((text) => ({ op: "same", text }));
  const tail: DiffLine[] = a.slice(a.length - suf).map((text) => ({ op: "same", text }));
  const x = a.slice(pre, a.length - suf);
  const y = b.slice(pre, b.length - suf);
  let middle: DiffLine[];
  if (x.length * y.length > MAX_CELLS) {
    middle = [...x.map((text) => ({ op: "del" as const, text })), ...y.map((text) => ({ op: "add" as const, text }))];
  } else {
    middle = lcs(x, y);
  }
  return [...head, ...middle, ...tail];
}

function lcs(x: string[], y: string[]): DiffLine[] {
  const n = x.length;
  const m = y.length;
  // len[i][j] = LCS length of x[i..] and y[j..]
  const len: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i][j] = x[i] === y[j] ? len[i + 1][j + 1] + 1 : Math.max(len[i + 1][j], len[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: "same", text: x[i] });
      i++;
      j++;
    } else if (len[i + 1][j] >= len[i][j + 1]) {
      out.push({ op: "del", text: x[i++] });
    } else {
      out.push({ op: "add", text: y[j++] });
    }
  }
  while (i < n) out.push({ op: "del", text: x[i++] });
  while (j < m) out.push({ op: "add", text: y[j++] });
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
