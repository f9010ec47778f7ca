/**
 * Number and time formatting with units. Times are shown in the browser's
 * time zone with its abbreviation, and in UTC on hover, so an operator and a
 * remote engineer read the same instant.
 */

/** `12.3 mm/s`; an em dash for missing or non-finite values. */
export function withUnit(v: number | undefined | null, unit: string, digits = 1): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  return `${v.toFixed(digits)} ${unit}`;
}

/** `87 %` from a 0–1 fraction. */
export function percent(v: number | undefined | null, digits = 0): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(digits)} %`;
}

/** The local time zone's short name, e.g. `CET` or `UTC+1`. */
export function timeZoneName(date = new Date(), locale?: string): string {
  const part = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' })
    .formatToParts(date)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'local';
}

/** The IANA zone of the browser, e.g. `Europe/Berlin`. */
export function timeZoneId(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local';
}

/** `14:03:07 CET` in the local zone. */
export function clock(ms: number, withZone = true): string {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const s = d.toLocaleTimeString(undefined, { hour12: false });
  return withZone ? `${s} ${timeZoneName(d)}` : s;
}

/** `2025-01-02 14:03:07 CET` in the local zone. */
export function dateTime(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms)}`;
}

/** ISO 8601 UTC, for tooltips. */
export function utc(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : '—';
}

/** `3 s ago`, `5 min ago`, `2 h ago`; `just now` under a second; `never` without data. */
export function ago(ms: number | undefined, nowMs: number): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'never';
  const s = Math.max(0, (nowMs - ms) / 1000);
  if (s < 1) return 'just now';
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Parses ms-since-epoch or an ISO string into ms; NaN when neither. */
export function toMs(t: number | string | undefined | null): number {
  if (typeof t === 'number') return t;
  if (typeof t === 'string') return Date.parse(t);
  return Number.NaN;
}

/** Title-cases an operator fault class for display (`inner race` → `Inner race`). */
export function faultLabel(c: string | undefined): string {
  if (!c) return '—';
  return c.charAt(0).toUpperCase() + c.slice(1);
}
