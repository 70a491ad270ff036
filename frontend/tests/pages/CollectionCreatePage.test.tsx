import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { CatalogModel, ChunkingPreviewRequest } from "../../src/api/types";
import { PREVIEW_DEBOUNCE_MS } from "../../src/components/ChunkPreview";
import { apiError } from "../helpers/api";
import { collection } from "../helpers/fixtures";
import { page, renderApp } from "../helpers/render";

const MODEL: CatalogModel = {
  name: "all-minilm-l6-v2",
  kind: "embedding",
  source: "sentence-transformers/all-MiniLM-L6-v2",
  dimension: 384,
  max_length: 256,
  pooling: "mean",
  query_prefix: null,
  document_prefix: null,
  activation: null,
  precisions: ["float32", "int8"],
  ready: true,
  variants: [
    { name: "all-minilm-l6-v2", precision: "float32", target: "cpu", ready: true, reason: "" },
    { name: "all-minilm-l6-v2-int8", precision: "int8", target: "cpu", ready: true, reason: "" },
  ],
};

function preview(request: ChunkingPreviewRequest) {
  return {
    embedding_model: MODEL.name,
    chunking_strategy: request.chunking_strategy,
    chunk_size: request.chunk_size,
    chunk_overlap: request.chunk_overlap,
    characters: (request.text ?? "").length,
    chunks: [{ index: 0, text: (request.text ?? "").slice(0, 40), start: 0, end: 40, tokens: 9, heading_path: ["Pruning roses"] }],
  };
}

describe("CollectionCreatePage", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
  afterEach(() => vi.useRealTimers());

  const routes = (extra = {}) => ({
    "GET /api/v2/models": () => page([MODEL]),
    "POST /api/v2/chunking/preview": ({ body }: { body: unknown }) => preview(body as ChunkingPreviewRequest),
    ...extra,
  });

  it("previews the chunks once typing pauses, not on every key", async () => {
    // 50 ms between keys: faster than the debounce, like a person typing.
    const user = userEvent.setup({ delay: 50, advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
    const { server } = renderApp("/collections/new", routes());
    await screen.findByRole("list", { name: "Preview chunks" });
    const initial = server.calls("POST /api/v2/chunking/preview").length;
    const sample = screen.getByLabelText(/^Sample text/);
    await user.clear(sample);
    await user.type(sample, "Roses need sun.");
    expect(server.calls("POST /api/v2/chunking/preview")).toHaveLength(initial);
    await act(() => vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS));
    await waitFor(() => expect(server.calls("POST /api/v2/chunking/preview")).toHaveLength(initial + 1));
    expect(server.calls("POST /api/v2/chunking/preview").at(-1)?.body).toMatchObject({
      text: "Roses need sun.",
      chunk_size: 200,
      chunk_overlap: 32,
      chunking_strategy: "recursive",
      embedding_model: MODEL.name,
      file_name: "sample.md",
    });
  });

  it("checks the settings against the model before sending", async () => {
    const user = userEvent.setup({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
    const { server } = renderApp("/collections/new", routes());
    const size = await screen.findByLabelText("Chunk size (tokens)");
    await user.clear(size);
    await user.type(size, "600");
    await user.click(screen.getByRole("button", { name: "Create collection" }));
    expect(screen.getByLabelText("Name")).toHaveAccessibleDescription("Give the collection a name.");
    expect(size).toHaveAccessibleDescription(/reads at most 254 tokens per chunk/);
    expect(server.calls("POST /api/v2/collections")).toHaveLength(0);
  });

  it("shows the server's validation errors on their fields", async () => {
    const user = userEvent.setup({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
    renderApp(
      "/collections/new",
      routes({
        "POST /api/v2/collections": () =>
          apiError(400, "invalid", "name: A collection named Garden notes exists.", {
            name: ["You already have a collection named 'Garden notes'."],
          }),
      }),
    );
    await user.type(await screen.findByLabelText("Name"), "Garden notes");
    await user.click(screen.getByRole("button", { name: "Create collection" }));
    await waitFor(() =>
      expect(screen.getByLabelText("Name")).toHaveAccessibleDescription("You already have a collection named 'Garden notes'."),
    );
  });

  it("creates the collection with the chosen model and precision and opens its sources", async () => {
    const user = userEvent.setup({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
    const created = collection({ id: "c0ffee00-0000-4000-8000-00000000000f" });
    const { server } = renderApp("/collections/new", routes({ "POST /api/v2/collections": () => ({ __reply: true, status: 201, body: created }) }));
    await user.type(await screen.findByLabelText("Name"), "Garden notes");
    await user.selectOptions(screen.getByLabelText("Precision"), "int8");
    await user.click(screen.getByRole("button", { name: "Create collection" }));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent(`/collections/${created.id}/sources`));
    expect(server.calls("POST /api/v2/collections")[0]?.body).toEqual({
      name: "Garden notes",
      description: "",
      embedding_model: MODEL.name,
      precision: "int8",
      chunking_strategy: "recursive",
      chunk_size: 200,
      chunk_overlap: 32,
    });
  });
});
