import { describe, expect, it } from "vitest";

import { findPassage, flattenText, locatePassage, markSlices, normaliseText } from "../../src/lib/locate";
import { markdownFragment, sanitizedFragment } from "../../src/lib/rendering";

const LIGHTHOUSE =
  "# Lighthouses\n\n## The keeper's night\n\nThe lighthouse keeper climbed the tower at dusk, " +
  "trimmed the wick and wound the [clockwork](https://example.org/clock) that turned the lens.\n\n" +
  "## Fog\n\nIn fog the *keeper* sounded the horn instead.\n";

function rendered(markdown: string): HTMLElement {
  const root = document.createElement("div");
  root.append(markdownFragment(markdown));
  document.body.replaceChildren(root);
  return root;
}

/** The text of the marks wrapped around the passage, joined. */
const markedText = (root: HTMLElement) =>
  [...root.querySelectorAll("mark[data-passage]")].map((m) => m.textContent).join("|");

describe("normaliseText and flattenText", () => {
  it("keep letters and digits in lower case, each mapped back to its text node", () => {
    expect(normaliseText("The keeper's  night,\n 10 s!")).toBe("thekeepersnight10s");
    const root = rendered("Hello **wide** world");
    const flat = flattenText(root);
    expect(flat.text).toBe("hellowideworld");
    const w = flat.text.indexOf("wide");
    expect(flat.nodes[flat.node[w] ?? -1]?.data).toBe("wide");
    expect(flat.start[w]).toBe(0);
  });

  it("maps a character whose lower case is longer to the whole character", () => {
    const root = document.createElement("p");
    root.textContent = "İstanbul";
    const flat = flattenText(root);
    expect(flat.text).toBe("i̇stanbul");
    expect([flat.start[0], flat.end[0], flat.start[1], flat.end[1], flat.start[2]]).toEqual([0, 1, 0, 1, 1]);
  });
});

describe("findPassage", () => {
  it("finds the occurrence nearest to where the chunk lies in the text", () => {
    const hay = "alphabeta" + "x".repeat(100) + "alphabeta";
    expect(findPassage(hay, "alphabeta", 0)).toEqual([0, 9]);
    expect(findPassage(hay, "alphabeta", 0.95)).toEqual([109, 118]);
  });

  it("spans from a run near the start to one near the end when the middle differs", () => {
    const needle = "thelighthousekeeperclimbedthetoweratdusk" + "httpsexampleorgclock" + "thatturnedthelensshipsfaroutsawthebeam";
    const hay = "preface" + "thelighthousekeeperclimbedthetoweratdusk" + "thatturnedthelensshipsfaroutsawthebeam" + "afterword";
    const found = findPassage(hay, needle);
    expect(found && hay.slice(found[0], found[1])).toBe(
      "thelighthousekeeperclimbedthetoweratdusk" + "thatturnedthelensshipsfaroutsawthebeam",
    );
  });

  it("gives up on text that is not there", () => {
    expect(findPassage("thelighthousekeeper", "volcanoesandmagmaflowingdownthemountainside")).toBeNull();
    expect(findPassage("abc", "")).toBeNull();
  });
});

describe("locatePassage and markSlices", () => {
  it("finds a Markdown chunk in the rendered document though its syntax is gone, and marks it across elements", () => {
    const root = rendered(LIGHTHOUSE);
    const chunk = LIGHTHOUSE.slice(0, LIGHTHOUSE.indexOf("## Fog"));
    const slices = locatePassage(root, markdownFragment(chunk), 0);
    expect(slices).not.toBeNull();
    const marks = markSlices(slices ?? [], "keeper");
    expect(markedText(root)).toBe(
      "Lighthouses|The keeper's night|The lighthouse keeper climbed the tower at dusk, trimmed the wick and wound the |clockwork| that turned the lens.",
    );
    // The marks sit inside the rendered elements, which stay whole.
    expect(marks[0]?.parentElement?.tagName).toBe("H1");
    expect(root.querySelector("h2 mark")?.textContent).toBe("The keeper's night");
    expect(root.querySelectorAll("h1, h2, p")).toHaveLength(5);
    // The query's terms are marked again inside the passage, and only there.
    expect([...root.querySelectorAll("mark[data-passage] mark")].map((m) => m.textContent)).toEqual(["keeper", "keeper"]);
    expect(root.querySelector("em")?.textContent).toBe("keeper");
    expect(root.textContent).toBe(rendered(LIGHTHOUSE).textContent);
  });

  it("finds a chunk that starts and ends inside paragraphs, marking only its part of them", () => {
    const root = rendered(LIGHTHOUSE);
    const slices = locatePassage(root, markdownFragment("wound the [clockwork](https://example.org/clock) that turned the lens.\n\n## Fog\n\nIn fog"), 0.5);
    markSlices(slices ?? []);
    expect(markedText(root)).toBe("wound the |clockwork| that turned the lens.|Fog|In fog");
  });

  it("finds an HTML page's extracted text in the page, its whitespace and tags aside", () => {
    const root = document.createElement("div");
    root.append(
      sanitizedFragment(
        "<html><body><nav>Home · About</nav><h1>Volcanoes</h1><p>Molten rock called <b>magma</b>\n   rises through the crust.</p>" +
          '<p>It flows as lava.<img src="x.png" alt="lava flow"></p></body></html>',
      ),
    );
    const slices = locatePassage(root, "Volcanoes\nMolten rock called magma rises through the crust.\nIt flows as lava.", 0);
    markSlices(slices ?? []);
    expect(markedText(root)).toBe("Volcanoes|Molten rock called |magma|\n   rises through the crust.|It flows as lava.");
    expect(root.querySelector("[data-preview-placeholder]")?.closest("mark")).toBeNull();
  });

  it("returns null when the passage is not in the rendering", () => {
    const root = rendered(LIGHTHOUSE);
    expect(locatePassage(root, "Volcanoes erupt with magma and ash over the whole valley below.", 0)).toBeNull();
    expect(root.querySelector("mark")).toBeNull();
  });
});
