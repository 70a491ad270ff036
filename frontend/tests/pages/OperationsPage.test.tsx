import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { RecordedRequest } from "../helpers/api";
import { collection, operation } from "../helpers/fixtures";
import { page, renderApp } from "../helpers/render";

const failed = operation({
  id: "0be7a710-0000-4000-8000-000000000002",
  type: "rescan",
  status: "failed",
  error: "Source folder /srv/docs/garden is gone.",
  finished_at: "2025-01-01T11:00:00Z",
  files_per_s: null,
  eta_s: null,
});

describe("OperationsPage", () => {
  it("lists operations with their collection, progress or outcome, and filters by status", async () => {
    const user = userEvent.setup();
    const { server } = renderApp("/operations", {
      "GET /api/v2/collections": () => page([collection()]),
      "GET /api/v2/operations": ({ query }: RecordedRequest) => {
        const status = query.get("status");
        return page([operation(), failed].filter((o) => !status || o.status === status));
      },
    });
    const list = await screen.findByRole("list", { name: "Operations" });
    await waitFor(() => expect(within(list).getAllByText("Garden notes")).toHaveLength(2));
    expect(within(list).getByRole("progressbar", { name: "Indexing" })).toHaveAttribute("aria-valuenow", "40");
    expect(within(list).getByText("Source folder /srv/docs/garden is gone.")).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Status"), "failed");
    await waitFor(() => expect(within(screen.getByRole("list", { name: "Operations" })).queryByRole("progressbar")).toBeNull());
    expect(server.requests.some((r) => r.path === "/api/v2/operations" && r.query.get("status") === "failed" && r.query.get("page_size") === "25")).toBe(true);
    expect(screen.getByTestId("location")).toHaveTextContent("/operations?status=failed");
  });
});
