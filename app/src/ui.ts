// A few DOM helpers: the app is small enough to need no framework (see app/README.md).
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** The element with `data-testid` `id` under `root`. */
export function byId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T {
  const el = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no element ${id}`);
  return el;
}

/** Shows a message in the page's banner (an error as a sentence, or a notice). */
export function banner(text: string | null, kind: 'error' | 'notice' = 'error'): void {
  const el = document.getElementById('banner')!;
  el.hidden = !text;
  el.textContent = text ?? '';
  el.className = kind;
}

export function shortAddress(a: string): string {
  return `${a.slice(0, 4)}…${a.slice(-4)}`;
}

export function seconds(s: bigint | number): string {
  const n = Number(s);
  return n < 120 ? `${n} s` : n < 7200 ? `${Math.round(n / 60)} min` : `${Math.round(n / 3600)} h`;
}
