import { describe, expect, it } from "vitest";
import { diffStats, fold, lineDiff } from "./diff";

const ops = (a: string, b: string) => lineDiff(a, b).map((l) => `${l.op === "same" ? " " : l.op === "add" ? "+" : "-"}${l.text}`);

describe("lineDiff", () => {
  it("shows nothing changed for equal texts", () => {
    expect(ops("a\nb", "a\nb")).toEqual([" a", " b"]);
    expect(lineDiff("", "")).toEqual([]);
  });
  it("marks a changed line as removed and added", () => {
    expect(ops("Hallo Herr Weber,\n\nDanke.\nGrüße", "Hallo Herr Weber,\n\nVielen Dank.\nGrüße")).toEqual([
      " Hallo Herr Weber,",
      " ",
      "-Danke.",
      "+Vielen Dank.",
      " Grüße",
    ]);
  });
  it("finds insertions and deletions in the middle", () => {
    expect(ops("a\nb\nc\nd", "a\nx\nb\nd")).toEqual([" a", "+x", " b", "-c", " d"]);
  });
  it("handles texts that start or end empty, and CRLF", () => {
    expect(ops("", "new")).toEqual(["+new"]);
    expect(ops("old", "")).toEqual(["-old"]);
    expect(ops("a\r\nb", "a\nb")).toEqual([" a", " b"]);
  });
  it("falls back on huge rewrites without hanging", () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join("\n");
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join("\n");
    const d = lineDiff(a, b);
    expect(diffStats(d)).toEqual({ added: 3000, removed: 3000 });
  });
  it("diffs long texts with few changes exactly", () => {
    const a = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    const b = [...a];
    b.splice(2500, 1, "changed");
    const d = lineDiff(a.join("\n"), b.join("\n"));
    expect(diffStats(d)).toEqual({ added: 1, removed: 1 });
    expect(d.find((l) => l.op === "add")?.text).toBe("changed");
  });
});

describe("fold", () => {
  it("keeps context around changes and folds the rest", () => {
    const before = ["1", "2", "3", "4", "5", "6", "7", "8"].join("\n");
    const after = ["1", "2", "3", "4", "five", "6", "7", "8"].join("\n");
    const f = fold(lineDiff(before, after), 1);
    expect(f).toEqual([
      { op: "fold", count: 3 },
      { op: "same", text: "4" },
      { op: "del", text: "5" },
      { op: "add", text: "five" },
      { op: "same", text: "6" },
      { op: "fold", count: 2 },
    ]);
  });
});
