import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { SearchWireRequest } from "../../src/api/types";
import { collection, searchResult } from "../helpers/fixtures";
import { page, renderApp } from "../helpers/render";

const first = searchResult({
  text: "Prune roses in late winter.",
  highlights: [
    [0, 5],
    [6, 11],
  ],
  title: "Roses",
  page: 4,
});
const second = searchResult({
  document_id: "d0c00000-0000-4000-8000-000000000002",
  chunk_index: 0,
  text: "Roses need pruning every year.",
  highlights: [
    [0, 5],
    [11, 18],
  ],
  path: "/srv/docs/garden/care.md",
  heading_path: [],
  scores: { semantic: 0.7, keyword: 3.2, fused: 0.031, rerank: null },
  score: 0.031,
});

function setup(path = "/search?q=prune+roses") {
  return renderApp(path, {
    "GET /api/v2/collections": () => page([collection()]),
    "POST /api/v2/search": ({ body }) => {
      const request = body as SearchWireRequest;
      return {
        query: request.query,
        mode: request.mode,
        fusion: null,
        merge: null,
        reranker: null,
        offset: 0,
        limit: request.limit,
        results: [first, second],
        errors: [],
      };
    },
  });
}

const resultLinks = async () => within(await screen.findByRole("list", { name: "Search results" })).getAllByRole("link");

describe("SearchPage", () => {
  it("searches the URL's query in every collection and shows where each hit comes from", async () => {
    const { server } = setup();
    const links = await resultLinks();
    expect(links.map((l) => l.textContent)).toEqual(["Roses", "care.md"]);
    expect(server.calls("POST /api/v2/search")[0]?.body).toEqual({
      query: "prune roses",
      collections: [collection().id],
      limit: 10,
      mode: "semantic",
    });
    expect(screen.getByText("Roses › Pruning · page 4")).toBeInTheDocument();
    expect(screen.getByText("/srv/docs/garden/care.md")).toBeInTheDocument();
  });

  it("marks the words at the server's highlight positions", async () => {
    setup();
    const items = within(await screen.findByRole("list", { name: "Search results" })).getAllByRole("listitem");
    const marks = (item: HTMLElement) => [...item.querySelectorAll("mark")].map((m) => m.textContent);
    expect(marks(items[0] as HTMLElement)).toEqual(["Prune", "roses"]);
    expect(marks(items[1] as HTMLElement)).toEqual(["Roses", "pruning"]);
  });

  it("moves through results with the arrow keys and opens one with Enter at its chunk", async () => {
    setup();
    const user = userEvent.setup();
    const links = await resultLinks();
    const input = screen.getByRole("searchbox", { name: "Search query" });
    input.focus();
    await user.keyboard("{ArrowDown}");
    expect(links[0]).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(links[1]).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(links[1]).toHaveFocus();
    await user.keyboard("{ArrowUp}");
    expect(links[0]).toHaveFocus();
    await user.keyboard("{ArrowUp}");
    expect(input).toHaveFocus();
    await user.keyboard("{ArrowDown}{Enter}");
    await waitFor(() =>
      expect(screen.getByTestId("location")).toHaveTextContent(
        `/documents/${first.document_id}?chunk=3&start=120&end=168&q=prune+roses`,
      ),
    );
  });

  it("runs the search again in the mode chosen", async () => {
    const { server } = setup();
    await resultLinks();
    await userEvent.click(screen.getByRole("radio", { name: "Hybrid" }));
    await waitFor(() => expect(server.calls("POST /api/v2/search")).toHaveLength(2));
    expect(server.calls("POST /api/v2/search")[1]?.body).toMatchObject({ mode: "hybrid" });
    expect(screen.getByTestId("location")).toHaveTextContent("mode=hybrid");
  });

  it("asks for reranking when the toggle is on", async () => {
    const { server } = setup();
    await resultLinks();
    await userEvent.click(screen.getByRole("checkbox", { name: "Rerank" }));
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() => expect(server.calls("POST /api/v2/search")).toHaveLength(2));
    expect(server.calls("POST /api/v2/search")[1]?.body).toMatchObject({ rerank: true });
  });

  it("shows each retriever's score on demand", async () => {
    setup();
    await resultLinks();
    expect(screen.queryByRole("definition")).toBeNull();
    await userEvent.click(screen.getByRole("checkbox", { name: "Show scores" }));
    const scores = screen.getAllByLabelText("Scores");
    expect(scores[1]).toHaveTextContent("score0.031semantic0.700keyword3.200fused0.031rerank—");
  });

  it("says what is missing instead of sending an empty query", async () => {
    const { server } = setup("/search");
    await userEvent.click(await screen.findByRole("button", { name: "Search" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Type something to search for.");
    expect(server.calls("POST /api/v2/search")).toHaveLength(0);
  });

  it("shows the server's message when the search fails", async () => {
    renderApp("/search?q=roses", {
      "GET /api/v2/collections": () => page([collection()]),
      "POST /api/v2/search": () => ({ __reply: true, status: 503, body: { error: { code: "service_unavailable", message: "Triton is unreachable." } } }),
    });
    expect(await screen.findByText("Triton is unreachable.")).toBeInTheDocument();
  });
});
