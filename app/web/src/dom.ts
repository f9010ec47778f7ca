/**
 * A few DOM helpers instead of a framework: elements are built with `h()` and
 * updated in place by the views. Text always goes through textContent, never
 * innerHTML, so nothing from the gateway is ever parsed as markup.
 */

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

/** Creates an element: `h('div', { class: 'tile', onclick: fn }, 'text', child)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/**
 * A table head of `labels`; the columns from `numericFrom` on hold numbers
 * and are right-aligned (class `num`), like their cells.
 */
export function tableHead(labels: readonly string[], numericFrom = labels.length): HTMLElement {
  return h(
    'thead',
    {},
    h('tr', {}, ...labels.map((l, i) => h('th', i >= numericFrom ? { class: 'num' } : {}, l))),
  );
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Sets text only when it changed (avoids layout work on every update). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Runs `fn` at most once per animation frame however often it is asked. */
export function frameThrottle(fn: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}

/** A view mounted into the main area; `update` is called on store changes. */
export interface View {
  el: HTMLElement;
  update(kind: string, machine?: string): void;
  /** Called on Escape; return true when handled (e.g. closing a form). */
  escape?(): boolean;
  dispose(): void;
}
