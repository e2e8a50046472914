// A bulk approval's progress, as a reducer: the approval's answer starts it, each look at the
// outbox (which of the batch still wait, which need the rep) moves it on, "cancel the rest"
// takes the waiting ones out. Pure, so the bar's arithmetic is tested without a window.

export type Failure = { id: number; label: string; reason: string };

export type Bulk = {
  /** Every draft the rep selected. */
  ids: number[];
  /** Refused at approval (with the reason) or failed / undecided since. */
  failures: Failure[];
  /** Still approved or being sent. */
  waiting: number[];
  /** Taken back with "cancel the rest". */
  cancelled: number[];
  /** Whether the outbox was looked at since the approval (else `waiting` is the approval's answer). */
  polled: boolean;
};

export type BulkAction =
  | { type: "approved"; results: { id: number; error: { message: string } | null }[]; labels: Record<number, string> }
  | { type: "polled"; waiting: number[]; problems: Failure[] }
  | { type: "cancelled"; ids: number[] };

export function bulkReducer(state: Bulk | null, action: BulkAction): Bulk | null {
  switch (action.type) {
    case "approved": {
      const ids = action.results.map((r) => r.id);
      const failures = action.results
        .filter((r) => r.error)
        .map((r) => ({ id: r.id, label: action.labels[r.id] ?? `#${r.id}`, reason: r.error?.message ?? "" }));
      const refused = new Set(failures.map((f) => f.id));
      return { ids, failures, waiting: ids.filter((id) => !refused.has(id)), cancelled: [], polled: false };
    }
    case "polled": {
      if (!state) return state;
      const mine = new Set(state.ids);
      const cancelled = new Set(state.cancelled);
      const failures = [...state.failures];
      const known = new Set(failures.map((f) => f.id));
      for (const p of action.problems) if (mine.has(p.id) && !known.has(p.id) && !cancelled.has(p.id)) failures.push(p);
      const failed = new Set(failures.map((f) => f.id));
      const waiting = action.waiting.filter((id) => mine.has(id) && !failed.has(id) && !cancelled.has(id));
      return { ...state, failures, waiting, polled: true };
    }
    case "cancelled": {
      if (!state) return state;
      const gone = new Set(action.ids);
      return {
        ...state,
        cancelled: [...state.cancelled, ...action.ids.filter((id) => !state.cancelled.includes(id))],
        waiting: state.waiting.filter((id) => !gone.has(id)),
      };
    }
  }
}

export type Progress = { total: number; done: number; failed: number; waiting: number; cancelled: number; finished: boolean };

/** The bar: done = sent (neither waiting, failed nor cancelled); finished when nothing waits. */
export function progressOf(b: Bulk): Progress {
  const total = b.ids.length;
  const failed = b.failures.length;
  const waiting = b.waiting.length;
  const cancelled = b.cancelled.length;
  const done = Math.max(0, total - failed - waiting - cancelled);
  return { total, done, failed, waiting, cancelled, finished: waiting === 0 };
}
