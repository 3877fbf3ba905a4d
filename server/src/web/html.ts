/**
 * HTML built from a tagged template that escapes every interpolated value, so page code cannot
 * forget to: only an `Html` value (another template's result, or `raw()` of HTML a trusted
 * renderer produced) is inserted as is.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What a template may interpolate: arrays are joined, null/undefined/false render as nothing. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let text = strings[0];
  for (let index = 0; index < values.length; index++) text += render(values[index]) + strings[index + 1];
  return new Html(text);
}

/** HTML inserted unescaped: only for the output of highlight.js and markdown-it (html: false). */
export function raw(trustedHtml: string): Html {
  return new Html(trustedHtml);
}
