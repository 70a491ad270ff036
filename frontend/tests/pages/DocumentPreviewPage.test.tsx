import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { RecordedRequest } from "../helpers/api";
import { apiError, fileReply } from "../helpers/api";
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

  describe("a Markdown document", () => {
    const MARKDOWN =
      "# Lighthouses\n\n## The keeper's night\n\nThe lighthouse **keeper** climbed the tower at dusk and wound the " +
      "[clockwork](https://example.org/clock).<script>window.pwned = true</script>\n\n## Fog\n\nIn fog the keeper sounded the horn.\n";
    const md = documentInfo({ mime_type: "text/markdown", relative_path: "sea/lighthouse.md", title: "Lighthouses", size: MARKDOWN.length });
    const start = MARKDOWN.indexOf("## The keeper");
    const end = MARKDOWN.indexOf("## Fog");

    function routes(content = MARKDOWN) {
      return {
        [`GET /api/v2/documents/${md.id}`]: () => md,
        [`GET /api/v2/documents/${md.id}/content`]: () => fileReply(content, "text/markdown"),
        [`GET /api/v2/documents/${md.id}/text`]: () => ({
          document_id: md.id,
          content_hash: "abc",
          mime_type: "text/markdown",
          characters: MARKDOWN.length,
          start: 0,
          end: MARKDOWN.length,
          text: MARKDOWN,
          page_starts: [],
        }),
      };
    }

    it("opens rendered, sanitised, with the chunk marked, focused and scrolled to", async () => {
      const scrolled = vi.fn();
      Element.prototype.scrollIntoView = scrolled;
      renderApp(`/documents/${md.id}?chunk=1&start=${start}&end=${end}&q=keeper`, routes());
      const passage = await screen.findByTitle("The passage you opened");
      const rendered = screen.getByRole("region", { name: "Rendered document" });
      expect(within(rendered).getByRole("heading", { level: 1, name: "Lighthouses" })).toBeInTheDocument();
      expect(rendered.querySelector("script")).toBeNull();
      expect(rendered.textContent).not.toContain("##");
      // The chunk is marked in the rendered headings and paragraph, not in the heading before it or the section after.
      const marked = [...rendered.querySelectorAll("mark[data-passage]")];
      expect(marked[0]).toBe(passage);
      expect(passage.closest("h2")).not.toBeNull();
      expect(marked.map((m) => m.textContent).join("|")).toBe(
        "The keeper's night|The lighthouse |keeper| climbed the tower at dusk and wound the |clockwork",
      );
      // The query's term is marked again inside the passage, in the bold it was written in.
      expect(rendered.querySelector("p strong mark[data-passage] mark")).toHaveTextContent("keeper");
      expect(rendered.querySelector("h1 mark")).toBeNull();
      expect(rendered.querySelector("h2:last-of-type mark")).toBeNull();
      await waitFor(() => expect(passage).toHaveFocus());
      expect(scrolled).toHaveBeenCalledWith({ block: "center" });
      expect(screen.getByRole("button", { name: "Rendered" })).toHaveAttribute("aria-pressed", "true");
    });

    it("switches to the exact text and back", async () => {
      renderApp(`/documents/${md.id}?chunk=1&start=${start}&end=${end}`, routes());
      await screen.findByTitle("The passage you opened");
      await userEvent.click(screen.getByRole("button", { name: "Text" }));
      const passage = await screen.findByLabelText("The passage you opened");
      expect(screen.queryByRole("region", { name: "Rendered document" })).toBeNull();
      expect(passage.textContent).toBe(MARKDOWN.slice(start, end));
      await userEvent.click(screen.getByRole("button", { name: "Rendered" }));
      expect(await screen.findByRole("region", { name: "Rendered document" })).toBeInTheDocument();
      expect(screen.getByTitle("The passage you opened").closest("h2")).not.toBeNull();
      // The mark leaves the heading's name alone.
      expect(screen.getByRole("heading", { level: 2, name: "The keeper's night" })).toBeInTheDocument();
    });

    it("falls back to the text at the chunk, saying so, when the rendering does not hold it", async () => {
      // The file on disk says something else than the text the chunk came from.
      renderApp(`/documents/${md.id}?chunk=1&start=${start}&end=${end}`, routes("# Something else entirely\n\nNothing of the chunk is here.\n"));
      expect(await screen.findByText(/The passage could not be found in the rendered page/)).toBeInTheDocument();
      const passage = await screen.findByLabelText("The passage you opened");
      expect(passage.textContent).toBe(MARKDOWN.slice(start, end));
      expect(screen.getByRole("button", { name: "Text" })).toHaveAttribute("aria-pressed", "true");
    });

    it("shows the text of a file too large to render", async () => {
      const big = { ...md, size: 3 * 1024 * 1024 };
      const server = renderApp(`/documents/${md.id}?chunk=1&start=${start}&end=${end}`, { ...routes(), [`GET /api/v2/documents/${md.id}`]: () => big }).server;
      expect(await screen.findByText(/too large to render/)).toBeInTheDocument();
      expect(await screen.findByLabelText("The passage you opened")).toHaveTextContent("The lighthouse");
      expect(screen.getByRole("button", { name: "Rendered" })).toBeDisabled();
      expect(server.calls(`GET /api/v2/documents/${md.id}/content`)).toHaveLength(0);
    });
  });

  it("shows a PDF as its text by page, with no Rendered view", async () => {
    renderApp(`/documents/${doc.id}?start=${CHUNK_START}&end=${CHUNK_END}`, {
      [`GET /api/v2/documents/${doc.id}`]: () => doc,
      [`GET /api/v2/documents/${doc.id}/text`]: textRoute,
    });
    await screen.findByLabelText("The passage you opened");
    expect(screen.queryByRole("group", { name: "View" })).toBeNull();
    expect(screen.getByRole("button", { name: "Open the PDF" })).toBeInTheDocument();
  });
});
