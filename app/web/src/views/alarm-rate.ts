/**
 * The alarm-rate panel of the gateway view (ISA-18.2's alarm-system
 * performance figures): alarms raised in the last 24 h, their mean per day
 * over 7 days and standing alarms, for the site and per machine, from
 * `GET /api/gateway` → `alarmRate`. A machine that keeps alarming is a
 * nuisance to fix (a threshold, a sensor, a shelf), not an operator's load to
 * carry, so the busiest machines come first.
 */
import type { AlarmFigures, AlarmRate } from '../../../../src/contract/alarms.js';
import { h, tableHead } from '../dom.js';

/**
 * More than this many alarms per day from one machine is flagged: ISA-18.2
 * puts a manageable load at about 150 a day for a whole console, so one
 * machine above a handful dominates it.
 */
const BUSY_PER_DAY = 5;

function row(name: string, f: AlarmFigures, cls = ''): HTMLElement {
  const busy = f.perDay7d > BUSY_PER_DAY || f.last24h > BUSY_PER_DAY;
  return h(
    'tr',
    { class: [cls, busy || f.standing > 0 ? 'warn' : ''].filter(Boolean).join(' ') },
    h('td', {}, name),
    h('td', { class: 'num' }, String(f.last24h)),
    h('td', { class: 'num' }, f.perDay7d.toFixed(1)),
    h('td', { class: 'num' }, f.standing ? `▲ ${f.standing}` : '0'),
  );
}

/** The panel, or null when the gateway does not report alarm rates. */
export function alarmRatePanel(rate: AlarmRate | undefined): HTMLElement | null {
  if (!rate) return null;
  const machines = Object.entries(rate.machines).sort(
    ([a, x], [b, y]) => y.perDay7d - x.perDay7d || y.last24h - x.last24h || a.localeCompare(b),
  );
  return h(
    'section',
    { class: 'panel alarm-rate' },
    h('h2', {}, 'Alarm rate'),
    h(
      'table',
      { class: 'alarm-rates' },
      tableHead(
        [
          'Machine',
          'Alarms, last 24 h',
          'Alarms per day (7-day mean)',
          'Standing (unacknowledged)',
        ],
        1,
      ),
      h('tbody', {}, row('Site', rate.site, 'site'), ...machines.map(([id, f]) => row(id, f))),
    ),
  );
}
