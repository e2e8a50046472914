import { describe, expect, it } from "vitest";
import { bulkReducer, progressOf, type Bulk } from "./bulk";

const approved = (ids: number[], refused: number[] = []) =>
  bulkReducer(null, {
    type: "approved",
    results: ids.map((id) => ({ id, error: refused.includes(id) ? { message: "needs a recipient" } : null })),
    labels: Object.fromEntries(ids.map((id) => [id, `Draft ${id}`])),
  }) as Bulk;

describe("bulk progress", () => {
  it("starts with everything approved waiting and refusals listed", () => {
    const b = approved([1, 2, 3, 4], [3]);
    expect(progressOf(b)).toEqual({ total: 4, done: 0, failed: 1, waiting: 3, cancelled: 0, finished: false });
    expect(b.failures).toEqual([{ id: 3, label: "Draft 3", reason: "needs a recipient" }]);
  });

  it("counts sent ones as the outbox moves on", () => {
    let b = approved([1, 2, 3, 4]);
    b = bulkReducer(b, { type: "polled", waiting: [3, 4, 99], problems: [] }) as Bulk;
    expect(progressOf(b)).toMatchObject({ done: 2, waiting: 2, finished: false });
    b = bulkReducer(b, {
      type: "polled",
      waiting: [],
      problems: [
        { id: 4, label: "Draft 4", reason: "needs decision" },
        { id: 77, label: "other", reason: "x" },
      ],
    }) as Bulk;
    expect(progressOf(b)).toEqual({ total: 4, done: 3, failed: 1, waiting: 0, cancelled: 0, finished: true });
    expect(b.failures.map((f) => f.id)).toEqual([4]);
  });

  it("takes cancelled ones out of the waiting and the done", () => {
    let b = approved([1, 2, 3]);
    b = bulkReducer(b, { type: "polled", waiting: [2, 3], problems: [] }) as Bulk;
    b = bulkReducer(b, { type: "cancelled", ids: [2, 3] }) as Bulk;
    expect(progressOf(b)).toEqual({ total: 3, done: 1, failed: 0, waiting: 0, cancelled: 2, finished: true });
    // a later look does not bring them back
    b = bulkReducer(b, { type: "polled", waiting: [], problems: [] }) as Bulk;
    expect(progressOf(b).cancelled).toBe(2);
  });

  it("ignores looks without a batch", () => {
    expect(bulkReducer(null, { type: "polled", waiting: [1], problems: [] })).toBeNull();
  });
});
