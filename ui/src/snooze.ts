// Snooze presets and the minutes they mean (the core takes minutes, 1 minute to 30 days).

export type SnoozePreset = "1h" | "3h" | "tomorrow" | "monday";
export const snoozePresets: SnoozePreset[] = ["1h", "3h", "tomorrow", "monday"];

export const MAX_SNOOZE_MINUTES = 30 * 24 * 60;

/** When a preset ends: in 1 or 3 hours, tomorrow at 9:00, next Monday at 9:00 (local time). */
export function presetUntil(p: SnoozePreset, now: Date): Date {
  const d = new Date(now.getTime());
  switch (p) {
    case "1h":
      return new Date(now.getTime() + 3_600_000);
    case "3h":
      return new Date(now.getTime() + 3 * 3_600_000);
    case "tomorrow":
      d.setDate(d.getDate() + 1);
      d.setHours(9, 0, 0, 0);
      return d;
    case "monday": {
      const days = (8 - d.getDay()) % 7 || 7; // Monday is 1; always the next one
      d.setDate(d.getDate() + days);
      d.setHours(9, 0, 0, 0);
      return d;
    }
  }
}

/** Whole minutes from `now` to `until`, rounded up, within 1 minute and 30 days; null when in the past. */
export function minutesUntil(until: Date, now: Date): number | null {
  const ms = until.getTime() - now.getTime();
  if (!Number.isFinite(ms) || ms <= 0) return null;
  return Math.min(MAX_SNOOZE_MINUTES, Math.max(1, Math.ceil(ms / 60_000)));
}

/** A `datetime-local` input's value for a date (local time, minutes). */
export function localInputValue(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
