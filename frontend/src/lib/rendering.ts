/**
 * A Markdown or HTML document turned into inert, sanitised DOM for the preview: no scripts, no
 * event handlers, no styles, nothing that loads from anywhere (images become their alt text,
 * links keep their text but lead nowhere).
 */
import DOMPurify, { type Config } from "dompurify";
import { Marked } from "marked";

/** The kinds of document the preview can render; others are shown as their extracted text. */
export type RenderKind = "markdown" | "html";

const RENDER_KINDS: Record<string, RenderKind> = {
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/html": "html",
  "application/xhtml+xml": "html",
};

export function renderKind(mimeType: string): RenderKind | null {
  return RENDER_KINDS[mimeType.split(";")[0]?.trim().toLowerCase() ?? ""] ?? null;
}

/** Marks an element the preview added (an image's stand-in): its text is not the document's. */
export const PLACEHOLDER_ATTRIBUTE = "data-preview-placeholder";

// Text structure only. Everything else goes (its text stays, except in script, style, head,
// template, svg, math and the like, whose contents DOMPurify drops): forms, frames, media,
// <link>, <meta>, <base>, and every attribute that could load, run or restyle.
const ALLOWED_TAGS = [
  "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "div", "span", "section", "article", "header",
  "footer", "main", "nav", "aside", "address", "blockquote", "pre", "code", "kbd", "samp", "var",
  "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "abbr", "cite",
  "q", "dfn", "time", "ul", "ol", "li", "dl", "dt", "dd", "figure", "figcaption", "table", "caption",
  "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col", "details", "summary", "a", "img",
];
const ALLOWED_ATTR = ["href", "title", "alt", "colspan", "rowspan", "scope", "start", "reversed", "lang", "dir", "datetime", "abbr"];

const PURIFY_CONFIG: Config & { RETURN_DOM_FRAGMENT: true } = {
  ALLOWED_TAGS,
  ALLOWED_ATTR,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  RETURN_DOM_FRAGMENT: true,
};

const markdown = new Marked({ gfm: true, async: false });

/**
 * HTML sanitised into a fragment that is safe to insert into the page. DOMPurify parses it in an
 * inert document, so nothing loads before the fragment is made inert here too.
 */
export function sanitizedFragment(html: string): DocumentFragment {
  const fragment = DOMPurify.sanitize(html, PURIFY_CONFIG);
  for (const image of [...fragment.querySelectorAll("img")]) {
    const alt = image.getAttribute("alt")?.trim();
    const stand = image.ownerDocument.createElement("span");
    stand.setAttribute(PLACEHOLDER_ATTRIBUTE, "");
    stand.className = "rounded-sm bg-gray-100 px-1 text-xs text-gray-600 dark:bg-gray-800 dark:text-gray-400";
    stand.textContent = alt ? `[image: ${alt}]` : "[image]";
    image.replaceWith(stand);
  }
  for (const link of [...fragment.querySelectorAll("a")]) {
    // Links are not followed from the preview (a page's relative links would lead into the UI).
    const href = link.getAttribute("href");
    link.removeAttribute("href");
    if (href && !link.title) link.title = href;
  }
  // A passage inside a closed <details> would be found and marked but not seen.
  for (const details of fragment.querySelectorAll("details")) details.setAttribute("open", "");
  return fragment;
}

/** Markdown rendered (GitHub's dialect) and sanitised: raw HTML inside it goes through DOMPurify too. */
export function markdownFragment(source: string): DocumentFragment {
  return sanitizedFragment(markdown.parse(source, { async: false }));
}

export function renderedFragment(source: string, kind: RenderKind): DocumentFragment {
  return kind === "markdown" ? markdownFragment(source) : sanitizedFragment(source);
}

const DECLARED_CHARSET = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)/i;

/**
 * The file's bytes as text, like the server's extraction reads them: UTF-8 when it is valid UTF-8,
 * else the charset the response or the page declares, else Windows-1252.
 */
export function decodeDocument(bytes: ArrayBuffer, contentType: string | null): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // not UTF-8: read the declared charset below
  }
  const head = new TextDecoder("windows-1252").decode(bytes.slice(0, 4096));
  const fromHeader = /charset=([\w.:-]+)/i.exec(contentType ?? "")?.[1];
  const fromPage = DECLARED_CHARSET.exec(head);
  const declared = fromHeader ?? fromPage?.[1] ?? fromPage?.[2];
  try {
    return new TextDecoder(declared ?? "windows-1252").decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}
