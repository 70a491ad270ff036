import { describe, expect, it } from "vitest";

import { decodeDocument, markdownFragment, renderKind, sanitizedFragment } from "../../src/lib/rendering";

/** The fragment as markup, to look for what must be gone. */
function html(fragment: DocumentFragment): string {
  const box = document.createElement("div");
  box.append(fragment);
  return box.innerHTML;
}

describe("sanitizedFragment", () => {
  it("drops scripts with their code, and every event handler", () => {
    const out = html(
      sanitizedFragment(
        '<p onclick="steal()">Hello</p><script>document.title = "pwned"</script><img src=x onerror="steal()"><svg onload="steal()"><text>x</text></svg>',
      ),
    );
    expect(out).not.toMatch(/script|pwned|onclick|onerror|onload|steal|svg/i);
    expect(out).toContain("<p>Hello</p>");
  });

  it("leaves links without an address to follow, javascript: ones included", () => {
    const fragment = sanitizedFragment('<a href="javascript:alert(1)">run</a> <a href="https://example.org/page">read</a>');
    const links = [...fragment.querySelectorAll("a")];
    expect(links.map((a) => a.textContent)).toEqual(["run", "read"]);
    expect(links.every((a) => !a.hasAttribute("href"))).toBe(true);
    expect(html(fragment)).not.toContain("javascript:");
    // The address of an ordinary link stays readable, as its title.
    expect(links[1]?.title).toBe("https://example.org/page");
  });

  it("loads nothing: images become their alt text, styles, frames, forms and <base> go", () => {
    const out = html(
      sanitizedFragment(
        '<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">' +
          '<style>body { background: url(https://evil.example/t.png) }</style>' +
          '<p style="background: url(https://evil.example/t.png)">text</p>' +
          '<img src="https://evil.example/pixel.gif" srcset="https://evil.example/2x.gif 2x" alt="A chart">' +
          '<iframe src="https://evil.example/"></iframe><object data="https://evil.example/x"></object>' +
          '<form action="https://evil.example/"><input name="q"><button>Go</button></form>' +
          '<video src="https://evil.example/v.mp4" poster="https://evil.example/p.png"></video>',
      ),
    );
    expect(out).not.toMatch(/evil\.example|<img|<iframe|<object|<form|<input|<video|<style|<link|<base|style=/);
    expect(out).toContain("[image: A chart]");
    expect(out).toContain("<p>text</p>");
  });

  it("keeps a whole page's body, not its head", () => {
    const out = html(sanitizedFragment("<html><head><title>Volcanoes</title></head><body><h1>Volcanoes</h1><p>Magma.</p></body></html>"));
    expect(out).toBe("<h1>Volcanoes</h1><p>Magma.</p>");
  });

  it("keeps no ids or classes that could clash with the page's own", () => {
    const out = html(sanitizedFragment('<div id="chunk" class="fixed inset-0" data-x="1" aria-hidden="true">x</div>'));
    expect(out).toBe("<div>x</div>");
  });
});

describe("markdownFragment", () => {
  it("renders headings, emphasis, lists and code", () => {
    const out = html(markdownFragment("# Title\n\nSome *soft* and **bold** text.\n\n- one\n- two\n\n```\ncode()\n```\n"));
    expect(out).toContain("<h1>Title</h1>");
    expect(out).toContain("<em>soft</em>");
    expect(out).toContain("<strong>bold</strong>");
    expect(out).toContain("<li>one</li>");
    expect(out).toContain("<pre><code>code()\n</code></pre>");
  });

  it("sanitises raw HTML and javascript: links inside Markdown", () => {
    const out = html(
      markdownFragment('Text <img src=x onerror="steal()"> [click](javascript:steal()) <script>steal()</script>\n\n![alt](https://evil.example/i.png)'),
    );
    expect(out).not.toMatch(/steal|onerror|javascript|<script|evil\.example/);
    expect(out).toContain("[image: alt]");
  });
});

describe("renderKind", () => {
  it("renders Markdown and HTML, nothing else", () => {
    expect(renderKind("text/markdown")).toBe("markdown");
    expect(renderKind("text/html; charset=utf-8")).toBe("html");
    expect(renderKind("application/pdf")).toBeNull();
    expect(renderKind("text/plain")).toBeNull();
  });
});

describe("decodeDocument", () => {
  it("reads UTF-8, and a page's declared charset when it is not UTF-8", () => {
    expect(decodeDocument(new TextEncoder().encode("café").buffer, "text/markdown")).toBe("café");
    const latin1 = new Uint8Array([...new TextEncoder().encode('<meta charset="iso-8859-1"><p>caf'), 0xe9, ...new TextEncoder().encode("</p>")]);
    expect(decodeDocument(latin1.buffer, "text/html")).toContain("<p>café</p>");
  });
});
