/**
 * A Markdown or HTML document rendered in the page (sanitised: see lib/rendering), opened at a
 * passage: the passage found in the rendered text, marked, scrolled into view and focused.
 */
import { useEffect, useLayoutEffect, useRef } from "react";

import { locatePassage, markSlices } from "../lib/locate";
import { markdownFragment, renderedFragment, type RenderKind } from "../lib/rendering";

/** What became of the passage: marked, not found in the rendering, or there was none to look for. */
export type LocateOutcome = "found" | "not-found" | "none";

export function RenderedDocument({
  source,
  kind,
  passage,
  hint,
  query,
  onLocate,
}: {
  source: string;
  kind: RenderKind;
  /** The chunk's text as extracted (what its offsets point into); null: no passage to open at. */
  passage: string | null;
  /** Where the passage lies in the extracted text, 0 to 1: picks among repeats of the same text. */
  hint: number;
  query: string;
  onLocate: (outcome: LocateOutcome) => void;
}) {
  const container = useRef<HTMLElement | null>(null);
  const report = useRef(onLocate);
  useEffect(() => {
    report.current = onLocate;
  }, [onLocate]);

  // React renders an empty box; the sanitised document is put in it here, outside React's tree, so
  // the marks wrapped around its text nodes stay until the document or the passage changes.
  useLayoutEffect(() => {
    const root = container.current;
    if (!root) return;
    root.replaceChildren(renderedFragment(source, kind));
    if (passage === null) {
      report.current("none");
      return;
    }
    // A Markdown chunk is rendered on its own, so its syntax goes the way the document's went.
    const slices = locatePassage(root, kind === "markdown" ? markdownFragment(passage) : passage, hint);
    const [first] = slices ? markSlices(slices, query) : [];
    if (!first) {
      report.current("not-found");
      return;
    }
    first.id = "chunk";
    first.tabIndex = -1;
    // A title, not an aria-label: the mark may be all of a heading, whose name would become the label.
    first.title = "The passage you opened";
    first.classList.add("ring-2");
    if (typeof first.scrollIntoView === "function") first.scrollIntoView({ block: "center" });
    first.focus({ preventScroll: true });
    report.current("found");
  }, [source, kind, passage, hint, query]);

  return (
    <section
      ref={container}
      aria-label="Rendered document"
      className="rendered-document rounded-lg border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900"
    />
  );
}
