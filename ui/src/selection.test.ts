import { describe, expect, it } from "vitest";
import { applyRange, toggle } from "./selection";

const rows = [
  { id: 10, ok: true },
  { id: 11, ok: false },
  { id: 12, ok: true },
  { id: 13, ok: true },
  { id: 14, ok: true },
];

describe("selection", () => {
  it("toggles one", () => {
    expect([...toggle(new Set([1]), 2, true)]).toEqual([1, 2]);
    expect([...toggle(new Set([1, 2]), 1, false)]).toEqual([2]);
  });
  it("selects a range in either direction, skipping what cannot be approved", () => {
    const at = (i: number) => rows[i];
    expect([...applyRange(new Set(), 0, 3, true, at, (r) => r.ok)].sort()).toEqual([10, 12, 13]);
    expect([...applyRange(new Set(), 4, 2, true, at, (r) => r.ok)].sort()).toEqual([12, 13, 14]);
  });
  it("clears a range when the clicked box was cleared", () => {
    const at = (i: number) => rows[i];
    expect([...applyRange(new Set([10, 12, 13, 14]), 1, 3, false, at, (r) => r.ok)]).toEqual([10, 14]);
  });
  it("skips rows that are not loaded", () => {
    expect(
      [
        ...applyRange(
          new Set(),
          0,
          4,
          true,
          (i) => (i === 2 ? undefined : rows[i]),
          (r) => r.ok,
        ),
      ].sort(),
    ).toEqual([10, 13, 14]);
  });
});
