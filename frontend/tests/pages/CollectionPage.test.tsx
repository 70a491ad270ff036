import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { RecordedRequest } from "../helpers/api";
import { apiError, reply } from "../helpers/api";
import { collection, documentInfo } from "../helpers/fixtures";
import { page, renderApp } from "../helpers/render";

const id = collection().id;
const base = `/api/v2/collections/${id}`;
const accepted = (type: string) => reply(202, { operation_id: "0be7a710-0000-4000-8000-0000000000aa", type, status: "pending" });

describe("CollectionPage", () => {
  it("deletes only after the collection's name is typed", async () => {
    const user = userEvent.setup();
    const { server } = renderApp(`/collections/${id}/settings`, {
      [`GET ${base}`]: () => collection(),
      "GET /api/v2/models": () => page([]),
      [`DELETE ${base}`]: () => reply(204),
    });
    const button = await screen.findByRole("button", { name: "Delete collection" });
    expect(button).toBeDisabled();
    await user.type(screen.getByLabelText(/to confirm/), "Garden note");
    expect(button).toBeDisabled();
    await user.type(screen.getByLabelText(/to confirm/), "s");
    expect(button).toBeEnabled();
    await user.click(button);
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent(/^\/$/));
    expect(server.calls(`DELETE ${base}`)).toHaveLength(1);
  });

  it("shows why a delete was refused", async () => {
    const user = userEvent.setup();
    renderApp(`/collections/${id}/settings`, {
      [`GET ${base}`]: () => collection(),
      "GET /api/v2/models": () => page([]),
      [`DELETE ${base}`]: () => apiError(409, "conflict", "An index operation is running on this collection."),
    });
    await user.type(await screen.findByLabelText(/to confirm/), "Garden notes");
    await user.click(screen.getByRole("button", { name: "Delete collection" }));
    expect(await screen.findByText("An index operation is running on this collection.")).toBeInTheDocument();
  });

  it("adds a folder with its globs and shows the server's reason on the path", async () => {
    const user = userEvent.setup();
    const { server } = renderApp(`/collections/${id}/sources`, {
      [`GET ${base}`]: () => collection(),
      [`GET ${base}/sources`]: () => ({ results: [] }),
      [`POST ${base}/sources`]: ({ body }: RecordedRequest) =>
        (body as { path: string }).path === "/etc"
          ? apiError(400, "invalid", "path: /etc is outside the document roots.", { path: ["/etc is outside the document roots."] })
          : accepted("index"),
    });
    const path = await screen.findByLabelText("Folder on the server");
    await user.type(path, "/etc");
    await user.click(screen.getByRole("button", { name: "Add folder and index" }));
    await waitFor(() => expect(path).toHaveAccessibleDescription(/\/etc is outside the document roots\./));
    await user.clear(path);
    await user.type(path, "/srv/docs/garden");
    await user.type(screen.getByLabelText("Include only (globs, optional)"), "**/*.md, **/*.pdf");
    await user.type(screen.getByLabelText("Exclude (globs, optional)"), "**/drafts/**");
    await user.click(screen.getByRole("button", { name: "Add folder and index" }));
    await waitFor(() => expect(server.calls(`POST ${base}/sources`)).toHaveLength(2));
    expect(server.calls(`POST ${base}/sources`)[1]?.body).toEqual({
      path: "/srv/docs/garden",
      include: ["**/*.md", "**/*.pdf"],
      exclude: ["**/drafts/**"],
    });
  });

  it("uploads a folder keeping its layout, leaving hidden files out", async () => {
    const user = userEvent.setup();
    const { server } = renderApp(`/collections/${id}/sources`, {
      [`GET ${base}`]: () => collection(),
      [`GET ${base}/sources`]: () => ({ results: [] }),
      [`POST ${base}/uploads`]: () =>
        reply(202, { operation_id: "x", type: "upload", status: "pending", source_id: "s", files: [{ relative_path: "notes/a.md", size: 5 }] }),
    });
    const file = (name: string, path: string) => {
      const f = new File(["hello"], name, { type: "text/markdown" });
      Object.defineProperty(f, "webkitRelativePath", { value: path });
      return f;
    };
    await user.upload(await screen.findByLabelText("Choose a folder"), [
      file("a.md", "notes/a.md"),
      file("b.md", "notes/sub/b.md"),
      file("HEAD", "notes/.git/HEAD"),
    ]);
    expect(screen.getByText(/2 files selected, 10 B/)).toHaveTextContent("1 hidden or empty files left out.");
    await user.click(screen.getByRole("button", { name: "Upload and index" }));
    await waitFor(() => expect(server.calls(`POST ${base}/uploads`)).toHaveLength(1));
    const form = server.calls(`POST ${base}/uploads`)[0]?.body as FormData;
    expect(form.getAll("paths")).toEqual(["notes/a.md", "notes/sub/b.md"]);
    expect((form.getAll("files") as File[]).map((f) => f.name)).toEqual(["a.md", "b.md"]);
  });

  it("lists failed documents with their reason and retries one", async () => {
    const user = userEvent.setup();
    const failed = documentInfo({ status: "failed", error: "PDF has no text layer (scanned?)", relative_path: "scan.pdf" });
    const { server } = renderApp(`/collections/${id}/documents?status=failed`, {
      [`GET ${base}`]: () => collection(),
      [`GET ${base}/documents`]: ({ query }: RecordedRequest) => page(query.get("status") === "failed" ? [failed] : []),
      [`POST /api/v2/documents/${failed.id}/retry`]: () => accepted("retry"),
    });
    const list = await screen.findByRole("list", { name: "Documents" });
    expect(within(list).getByText("PDF has no text layer (scanned?)")).toBeInTheDocument();
    expect(screen.getByLabelText("Status")).toHaveValue("failed");
    await user.click(within(list).getByRole("button", { name: "Retry scan.pdf" }));
    await waitFor(() => expect(server.calls(`POST /api/v2/documents/${failed.id}/retry`)).toHaveLength(1));
  });

  it("says a collection that is not visible does not exist", async () => {
    renderApp(`/collections/${id}`, { [`GET ${base}`]: () => apiError(404, "not_found", "Not found.") });
    expect(await screen.findByText("Collection not found")).toBeInTheDocument();
  });

  it("hides writing from a viewer", async () => {
    renderApp(`/collections/${id}/sources`, {
      [`GET ${base}`]: () => collection({ role: "viewer" }),
      [`GET ${base}/sources`]: () => ({ results: [] }),
    });
    expect(await screen.findByText("shared with you: viewer")).toBeInTheDocument();
    const tabs = screen.getByRole("navigation", { name: "Collection sections" });
    expect(within(tabs).getAllByRole("link").map((l) => l.textContent)).toEqual(["Sources", "Documents", "Operations"]);
    expect(screen.queryByRole("button", { name: "Add folder and index" })).toBeNull();
  });

  it("makes the collection public through the collection's PATCH", async () => {
    const user = userEvent.setup();
    const { server } = renderApp(`/collections/${id}/sharing`, {
      [`GET ${base}`]: () => collection({ is_public: false }),
      [`GET ${base}/shares`]: () => ({ results: [] }),
      [`PATCH ${base}`]: () => collection({ is_public: true }),
    });
    await user.click(await screen.findByLabelText(/^Public:/));
    await waitFor(() => expect(server.calls(`PATCH ${base}`)[0]?.body).toEqual({ is_public: true }));
    await waitFor(() => expect(screen.getByLabelText(/^Public:/)).toBeChecked());
  });

  it("shares with a user as viewer", async () => {
    const user = userEvent.setup();
    const shares: unknown[] = [];
    const { server } = renderApp(`/collections/${id}/sharing`, {
      [`GET ${base}`]: () => collection({ is_public: false }),
      [`GET ${base}/shares`]: () => ({ results: shares }),
      [`POST ${base}/shares`]: ({ body }: RecordedRequest) => {
        shares.push({ user_id: 2, username: (body as { username: string }).username, role: "viewer" });
        return reply(201, shares[0]);
      },
    });
    await user.type(await screen.findByLabelText("Share with (username)"), "bob");
    await user.click(screen.getByRole("button", { name: "Share" }));
    expect(await screen.findByRole("combobox", { name: "Role of bob" })).toHaveValue("viewer");
    expect(server.calls(`POST ${base}/shares`)[0]?.body).toEqual({ username: "bob", role: "viewer" });
  });
});
