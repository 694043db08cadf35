/** How long ago `since` was, coarsely: "just now", "4m", "2h 5m", "3d 1h". */
export function age(since: string, now: Date): string {
  const minutes = Math.floor((now.getTime() - new Date(since).getTime()) / 60000);
  if (Number.isNaN(minutes)) return "unknown";
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

// The Rust side sends RFC 3339 times in UTC; people read them in this computer's zone, written
// in the workspace's locale (`[workspace] locale`; British English unless it says otherwise).

const DEFAULT_LOCALE = "en-GB";
let current = DEFAULT_LOCALE;

/** Sets how dates, times and numbers are written; `null` or a tag this browser cannot use is
 *  the default, British English. */
export function setLocale(tag: string | null): void {
  let chosen = DEFAULT_LOCALE;
  if (tag) {
    try {
      chosen = Intl.getCanonicalLocales(tag)[0] ?? DEFAULT_LOCALE;
    } catch {
      chosen = DEFAULT_LOCALE;
    }
  }
  current = chosen;
}

/** The locale dates and numbers are written in now. */
export function locale(): string {
  return current;
}

/** A day as people read it in the workspace's locale: `Fri 27 Nov 2026`. */
export function day(iso: string): string {
  return new Date(iso).toLocaleDateString(current, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
}

/** A time as people read it, in this computer's zone: `Mon 30 Nov, 09:00`. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString(current, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** The time of day alone, in this computer's zone: `09:00`. For times within one day's work. */
export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString(current, { hour: "2-digit", minute: "2-digit" });
}
