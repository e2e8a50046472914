import { describe, expect, it } from "vitest";
import { localInputValue, minutesUntil, presetUntil } from "./snooze";

// Wednesday 2026-11-25 14:30 local time
const now = new Date(2026, 10, 25, 14, 30, 0);

describe("snooze presets", () => {
  it("end when they say", () => {
    expect(minutesUntil(presetUntil("1h", now), now)).toBe(60);
    expect(minutesUntil(presetUntil("3h", now), now)).toBe(180);
    const tomorrow = presetUntil("tomorrow", now);
    expect([tomorrow.getDate(), tomorrow.getHours(), tomorrow.getMinutes()]).toEqual([26, 9, 0]);
    const monday = presetUntil("monday", now);
    expect([monday.getDay(), monday.getDate(), monday.getHours()]).toEqual([1, 30, 9]);
  });
  it("next Monday from a Monday is a week on", () => {
    const mon = new Date(2026, 10, 30, 8, 0);
    expect(presetUntil("monday", mon).getDate()).toBe(7);
  });
  it("are clamped to what the core takes", () => {
    expect(minutesUntil(new Date(now.getTime() + 10_000), now)).toBe(1);
    expect(minutesUntil(new Date(now.getTime() + 90 * 86_400_000), now)).toBe(30 * 24 * 60);
    expect(minutesUntil(new Date(now.getTime() - 1), now)).toBeNull();
    expect(minutesUntil(new Date("nonsense"), now)).toBeNull();
  });
  it("formats for a datetime-local input", () => {
    expect(localInputValue(now)).toBe("2026-11-25T14:30");
  });
});
