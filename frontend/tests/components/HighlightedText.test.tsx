import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { HighlightedText } from "../../src/components/HighlightedText";

describe("HighlightedText", () => {
  it("marks exactly the characters in the given ranges", () => {
    const { container } = render(<HighlightedText text="Prune roses in late winter" ranges={[[6, 11], [20, 26]]} />);
    const marks = [...container.querySelectorAll("mark")].map((m) => m.textContent);
    expect(marks).toEqual(["roses", "winter"]);
    expect(container.textContent).toBe("Prune roses in late winter");
  });

  it("renders markup in the text as text", () => {
    const { container } = render(<HighlightedText text={'<img src=x onerror="alert(1)"> roses'} ranges={[[31, 36]]} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("mark")?.textContent).toBe("roses");
  });
});
