import { describe, expect, it } from "vitest";

import { normaliseRanges, segments, termRanges } from "../../src/lib/highlight";

describe("highlight ranges", () => {
  it("clamps, sorts and merges overlapping ranges and drops empty ones", () => {
    expect(normaliseRanges([[10, 14], [0, 3], [2, 5], [7, 7], [40, 99]], 42)).toEqual([[0, 5], [10, 14], [40, 42]]);
  });

  it("cuts a text into segments that join back to it", () => {
    const text = "Prune roses in winter";
    const parts = segments(text, [[6, 11], [15, 21]]);
    expect(parts).toEqual([
      { text: "Prune ", highlighted: false },
      { text: "roses", highlighted: true },
      { text: " in ", highlighted: false },
      { text: "winter", highlighted: true },
    ]);
    expect(parts.map((p) => p.text).join("")).toBe(text);
  });

  it("finds the query's words ignoring case, and their other forms", () => {
    const text = "Searching is fast. The search engine SEARCHES.";
    const found = termRanges(text, "searches").map(([s, e]) => text.slice(s, e));
    expect(found).toEqual(["Searching", "search", "SEARCHES"]);
  });

  it("leaves out stop words", () => {
    expect(termRanges("how to prune the roses", "how do I prune the roses")).toEqual([[7, 12], [17, 22]]);
  });

  it("finds an identifier whole and its parts", () => {
    const text = "call get_embedder() then the embedder closes";
    const found = termRanges(text, "get_embedder").map(([s, e]) => text.slice(s, e));
    expect(found).toEqual(["get_embedder", "embedder"]);
  });
});
