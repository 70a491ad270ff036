import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { RecordedRequest } from "../helpers/api";
import { apiError } from "../helpers/api";
import { documentInfo } from "../helpers/fixtures";
import { renderApp } from "../helpers/render";

const TEXT = "Page one talks about tulips.\n\nPage two: prune roses in late winter, when buds swell.\n\nPage three is about lawns.";
const CHUNK_START = TEXT.indexOf("prune");
const CHUNK_END = TEXT.indexOf("swell.") + "swell.".length;
const doc = documentInfo({ mime_type: "application/pdf", relative_path: "garden/guide.pdf", title: "Garden guide" });

function textRoute({ query }: RecordedRequest) {
  const start = Number(query.get("start") ?? 0);
  const end = Math.min(Number(query.get("end") ?? TEXT.length), TEXT.length);
  return {
    document_id: doc.id,
    content_hash: "abc",
    mime_type: "application/pdf",
    characters: TEXT.length,
    start,
    end,
    text: TEXT.slice(start, end),
    page_starts: [0, TEXT.indexOf("Page two"), TEXT.indexOf("Page three")],
  };
}

describe("DocumentPreviewPage", () => {
  it("opens at the chunk: highlighted, focused, scrolled into view, with its page", async () => {
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    const { server } = renderApp(`/documents/${doc.id}?chunk=4&start=${CHUNK_START}&end=${CHUNK_END}&q=pruning+roses`, {
      [`GET /api/v2/documents/${doc.id}`]: () => doc,
      [`GET /api/v2/documents/${doc.id}/text`]: textRoute,
    });
    const passage = await screen.findByLabelText("The passage you opened");
    expect(passage).toHaveTextContent("prune roses in late winter, when buds swell.");
    await waitFor(() => expect(passage).toHaveFocus());
    expect(scrolled).toHaveBeenCalledWith({ block: "center" });
    expect([...passage.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["prune", "roses"]);
    expect(screen.getByText(/Showing chunk 5, page 2/)).toBeInTheDocument();
    expect(screen.getAllByText(/^Page \d$/).map((p) => p.textContent)).toEqual(["Page 1", "Page 2", "Page 3"]);
    expect(server.calls(`GET /api/v2/documents/${doc.id}/text`)[0]?.query.get("start")).toBe("0");
  });

  it("looks up the chunk's offsets when the link names only the chunk", async () => {
    renderApp(`/documents/${doc.id}?chunk=4`, {
      [`GET /api/v2/documents/${doc.id}`]: () => doc,
      [`GET /api/v2/documents/${doc.id}/chunks`]: ({ query }: RecordedRequest) => {
        expect(query.get("page")).toBe("5");
        return { count: 9, next: null, previous: null, results: [{ index: 4, text: "", start: CHUNK_START, end: CHUNK_END, page: 2 }] };
      },
      [`GET /api/v2/documents/${doc.id}/text`]: textRoute,
    });
    expect(await screen.findByLabelText("The passage you opened")).toHaveTextContent("prune roses in late winter");
  });

  it("explains a file that changed since it was indexed", async () => {
    renderApp(`/documents/${doc.id}?start=0&end=10`, {
      [`GET /api/v2/documents/${doc.id}`]: () => doc,
      [`GET /api/v2/documents/${doc.id}/text`]: () => apiError(409, "conflict", "garden/guide.pdf changed since it was indexed."),
    });
    expect(await screen.findByText("The file changed since it was indexed")).toBeInTheDocument();
    expect(screen.getByText("garden/guide.pdf changed since it was indexed.")).toBeInTheDocument();
  });
});
