// The outbox list's page cache. Rows come from the core one page at a time (`listPage`), only
// for the part of the list on screen; the cache keeps a bounded number of pages, forgets them
// when the query changes, and marks them stale (kept on screen until refetched) when the
// outbox changes. The component does the fetching.
//
// Reactive (runes): `key`, `total` and `known` are state, each page is read through a
// `SvelteMap` (markup that shows `row(i)` updates when that page arrives or is dropped), and
// the request generation is state, so an effect that calls `request` runs again whenever the
// pages must be asked for anew (a new query, a change in the outbox).
import { SvelteMap } from "svelte/reactivity";

export type PageRow = { id: number };

type Page<T> = { rows: T[]; stale: boolean };

export class PageCache<T extends PageRow> {
  readonly pageSize: number;
  readonly maxPages: number;
  /** The query the pages belong to. */
  key = $state("");
  /** Rows matching the query in all (from the latest page). */
  total = $state(0);
  /** Whether any page arrived for this key (else `total` is unknown). */
  known = $state(false);
  // Pages as they came (not deeply reactive). Their `stale` flag is bookkeeping: the requesting
  // effect learns of a change in the outbox through `generation`.
  private pages = new SvelteMap<number, Page<T>>();
  // page -> generation of the request in flight. Plain on purpose: `request` writes it inside the
  // effect that reads the cache, and a reactive map would make that effect depend on its own writes.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private loading = new Map<number, number>();
  private generation = $state(0);

  constructor(pageSize = 200, maxPages = 12) {
    this.pageSize = pageSize;
    this.maxPages = maxPages;
  }

  /** A new query: every page is dropped; answers to older requests are ignored. */
  reset(key: string) {
    this.key = key;
    this.total = 0;
    this.known = false;
    this.pages.clear();
    this.loading.clear();
    this.generation++;
  }

  /** The outbox changed: pages stay on screen but are fetched again. */
  invalidate() {
    for (const p of this.pages.values()) p.stale = true;
    this.loading.clear();
    this.generation++;
  }

  row(index: number): T | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.rows[index % this.pageSize];
  }

  /** Of `pages`, those to fetch now (missing or stale, and not already asked for); marks them as asked. */
  request(pages: readonly number[]): { page: number; offset: number; limit: number; generation: number }[] {
    // Read first, whatever follows: an effect calling this must run again on a new generation
    // even when every page it wants is loaded now (they turn stale, which is not state).
    const generation = this.generation;
    const out = [];
    for (const page of pages) {
      if (page < 0 || (this.known && page * this.pageSize >= Math.max(this.total, 1))) continue;
      const have = this.pages.get(page);
      if (have && !have.stale) continue;
      if (this.loading.get(page) === generation) continue;
      this.loading.set(page, generation);
      out.push({ page, offset: page * this.pageSize, limit: this.pageSize, generation });
    }
    return out;
  }

  /** Stores an answer; false (and nothing stored) when it belongs to an older query or state. */
  put(page: number, generation: number, rows: T[], total: number, focusPage = page): boolean {
    if (generation !== this.generation) return false;
    this.loading.delete(page);
    this.pages.set(page, { rows, stale: false });
    this.total = total;
    this.known = true;
    // Pages beyond the new end are gone.
    for (const p of [...this.pages.keys()]) if (p * this.pageSize >= Math.max(total, 1) && p !== 0) this.pages.delete(p);
    this.evict(focusPage);
    return true;
  }

  /** A request failed: it may be asked for again. */
  fail(page: number, generation: number) {
    if (this.loading.get(page) === generation) this.loading.delete(page);
  }

  /** Keeps at most `maxPages`, dropping those farthest from `focusPage`. */
  private evict(focusPage: number) {
    if (this.pages.size <= this.maxPages) return;
    const order = [...this.pages.keys()].sort((a, b) => Math.abs(b - focusPage) - Math.abs(a - focusPage));
    for (const p of order.slice(0, this.pages.size - this.maxPages)) this.pages.delete(p);
  }

  /** How many pages are held (for tests and the memory bound). */
  get held(): number {
    return this.pages.size;
  }

  /** The index of a loaded row, or -1. */
  indexOf(id: number): number {
    for (const [p, page] of this.pages) {
      const i = page.rows.findIndex((r) => r.id === id);
      if (i !== -1) return p * this.pageSize + i;
    }
    return -1;
  }

  /** The loaded rows with their indices, in list order. */
  loaded(): { index: number; row: T }[] {
    const out: { index: number; row: T }[] = [];
    for (const p of [...this.pages.keys()].sort((a, b) => a - b)) {
      this.pages.get(p)?.rows.forEach((row, i) => out.push({ index: p * this.pageSize + i, row }));
    }
    return out;
  }
}

/** A stable key for a list query (everything but the paging). */
export function queryKey(q: { view: string; search: string; sort: string; descending: boolean }): string {
  return JSON.stringify([q.view, q.search.trim(), q.sort, q.descending]);
}
