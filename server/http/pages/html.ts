/** Markup that is safe to insert as is: built only by `html`, which escapes every value put into it. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

type Value = Html | string | number | undefined | null | false | (Html | string)[];

/** A template tag: values are escaped unless they are Html already; lists are joined; empty values vanish. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let text = strings[0];
  values.forEach((value, index) => {
    text += render(value) + strings[index + 1];
  });
  return new Html(text);
}

function render(value: Value): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map((item) => render(item)).join('');
  if (value instanceof Html) return value.text;
  return escapeHtml(String(value));
}

/**
 * The frame of every page: one heading, the content in <main>, one stylesheet from this server (no inline style
 * or script, so the strict Content-Security-Policy of these pages holds).
 */
export function page(title: string, content: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · CCP Exchange</title>
<link rel="stylesheet" href="/auth/style.css">
</head>
<body>
<header><p class="brand">CCP Exchange</p></header>
<main>
<h1>${title}</h1>
${content}
</main>
</body>
</html>
`.text;
}

export const STYLESHEET = `
body { font: 1rem/1.5 system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #f6f7f9; }
header { background: #12355b; color: #fff; padding: .5rem 1rem; }
.brand { margin: 0; font-weight: 600; }
main { max-width: 36rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: .5rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input[type=text], input[type=password], input[type=search] { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 1px solid #6b7280; border-radius: .25rem; }
button, .button { display: inline-block; margin: 1rem .5rem 0 0; padding: .5rem 1rem; font: inherit; border-radius: .25rem; border: 1px solid #12355b; background: #12355b; color: #fff; text-decoration: none; cursor: pointer; }
button.secondary, .button.secondary { background: #fff; color: #12355b; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.alert { border-left: 4px solid #b91c1c; background: #fef2f2; padding: .5rem 1rem; }
.terms { white-space: pre-wrap; max-height: 24rem; overflow: auto; border: 1px solid #d1d5db; padding: 1rem; }
fieldset { border: 1px solid #d1d5db; border-radius: .25rem; margin-top: 1rem; }
fieldset label { font-weight: 400; margin-top: .25rem; }
ul.scopes li { margin: .25rem 0; }
.notices { margin-bottom: 1rem; }
.notice { border-left: 4px solid #1d4ed8; background: #eff6ff; padding: .25rem 1rem; margin-bottom: .5rem; }
.notice p { margin: .25rem 0; }
.notice-warning { border-left-color: #b45309; background: #fffbeb; }
.notice-critical { border-left-color: #b91c1c; background: #fef2f2; }
.notice-severity { font-size: .875rem; text-transform: uppercase; letter-spacing: .03em; margin-left: .5rem; }
.notice-text { white-space: pre-wrap; }
`;
