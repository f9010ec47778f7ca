/**
 * Reads the gateway's promotion-guard results into table rows. The gateway
 * reports each guard as `{name, passed, detail}` with the numbers in the
 * detail text (src/model/adapt/guards.ts), e.g.
 * `source validation accuracy 98.00 % → 97.50 % (allowed drop 2.00 %)`.
 */

export interface GuardRow {
  name: string;
  /** Operator wording of the guard. */
  title: string;
  passed: boolean;
  measure: string;
  before?: string;
  after?: string;
  limit?: string;
  detail: string;
}

const TITLES: Record<string, string> = {
  'source-forgetting': 'Source accuracy kept (no forgetting)',
  // Data-set adaptation measures the information-maximisation score; on one
  // machine it is the prediction entropy (src/model/adapt/guards.ts).
  'negative-transfer': 'Label-free transfer signal (no loss of confidence)',
  'class-collapse': 'Predictions use all classes (no collapse)',
  'verdict-stability': 'Steady verdict on this machine',
  'verdict-agreement': 'Same diagnosis as the current model',
  'held-out-verdicts': 'Held-out verdict windows not worse',
};

/** One row per guard; numbers parsed from the detail when it has the `a → b (limit)` form. */
export function guardRows(
  guards: readonly { name: string; passed: boolean; detail: string }[] | undefined,
): GuardRow[] {
  return (guards ?? []).map((g) => {
    const row: GuardRow = {
      name: g.name,
      title: TITLES[g.name] ?? g.name,
      passed: g.passed,
      measure: g.detail,
      detail: g.detail,
    };
    const arrow = /^(.*?)\s+(-?[\d.]+(?:\s?%)?)\s*→\s*(-?[\d.]+(?:\s?%)?)\s*\((.*)\)\s*$/.exec(
      g.detail,
    );
    if (arrow) {
      row.measure = arrow[1];
      row.before = arrow[2];
      row.after = arrow[3];
      row.limit = arrow[4];
      return row;
    }
    const single = /^(.*?)\s+(-?[\d.]+(?:\s?%)?)(?:\s+of\s+[\d.]+)?\s*\((.*)\)\s*$/.exec(g.detail);
    if (single) {
      row.measure = single[1];
      row.after = single[2];
      row.limit = single[3];
    }
    return row;
  });
}
