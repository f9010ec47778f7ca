/**
 * Which of a machine's verdict windows train and which are held out to judge
 * the result (issue #16: "the labelled windows held out from training must
 * not get worse"). Pure: indices in, indices out.
 *
 * Why by alert: the windows around one alert are cut every `hop` samples
 * from one stretch of signal, so neighbours share most of their samples
 * (the simulator's model: 9601-sample windows every 3000 samples, each
 * overlapping its three neighbours). A window held out beside its own
 * neighbour in training would be judged on samples the model was trained
 * on, and the guard would pass on memory, not on learning. So where a class
 * has windows from several alerts, whole alerts are held out (the latest
 * ones: the machine as it is now). Where a class has one alert only, its
 * latest windows are held out and the `gap` windows before them, which
 * overlap them, are used for neither; that still judges the model on the
 * same few seconds of the same fault, which the docs say plainly.
 */

/** One labelled window as the split sees it. */
export interface SplitWindow {
  /** Class name. */
  label: string;
  /** The alert whose verdict labelled it. */
  alert: string;
  /** Its last sample's time, ms (orders windows within an alert, and alerts). */
  t: number;
}

export interface VerdictSplit {
  train: number[];
  heldOut: number[];
  /** Windows used for neither (overlapping a held-out one of the same alert). */
  dropped: number;
  /** Classes whose held-out part is whole alerts. */
  byAlert: string[];
}

/**
 * Splits `windows` per class: about `share` of each class's windows held
 * out, by alert where the class has several alerts, else its latest windows
 * with `gap` overlapping windows dropped before them. Every class with at
 * least `gap + 2` windows gets both a training and a held-out part; smaller
 * classes only train.
 * @param gap windows that overlap a given window on one side: ceil(windowLength / hop) − 1
 */
export function splitVerdictWindows(
  windows: readonly SplitWindow[],
  gap: number,
  share = 0.3,
): VerdictSplit {
  const out: VerdictSplit = { train: [], heldOut: [], dropped: 0, byAlert: [] };
  const byClass = new Map<string, number[]>();
  windows.forEach((w, i) => {
    const list = byClass.get(w.label) ?? [];
    list.push(i);
    byClass.set(w.label, list);
  });
  for (const [label, idx] of [...byClass].sort(([a], [b]) => a.localeCompare(b))) {
    const alerts = new Map<string, number[]>();
    for (const i of idx) {
      const list = alerts.get(windows[i].alert) ?? [];
      list.push(i);
      alerts.set(windows[i].alert, list);
    }
    const byTime = (a: number, b: number) => windows[a].t - windows[b].t;
    if (alerts.size >= 2) {
      // latest alerts first into the held-out part, until it has its share (at least one alert, never all)
      const groups = [...alerts.values()]
        .map((g) => g.sort(byTime))
        .sort((a, b) => windows[b[0]].t - windows[a[0]].t);
      const want = Math.max(1, Math.round(idx.length * share));
      let held = 0;
      for (const [k, g] of groups.entries()) {
        if (k < groups.length - 1 && (held === 0 || held + g.length <= want)) {
          out.heldOut.push(...g);
          held += g.length;
        } else out.train.push(...g);
      }
      out.byAlert.push(label);
      continue;
    }
    const sorted = [...idx].sort(byTime);
    if (sorted.length < gap + 2) {
      out.train.push(...sorted);
      continue;
    }
    // at least one training window left after the held-out tail and the gap
    const held = Math.min(Math.max(1, Math.round(sorted.length * share)), sorted.length - gap - 1);
    const cut = sorted.length - held;
    out.heldOut.push(...sorted.slice(cut));
    out.train.push(...sorted.slice(0, cut - gap));
    out.dropped += gap;
  }
  return out;
}
