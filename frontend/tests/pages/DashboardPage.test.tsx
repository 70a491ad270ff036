import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { FakeSocket } from "../helpers/fakeSocket";
import { collection, operation } from "../helpers/fixtures";
import { page, renderApp } from "../helpers/render";

const live = (type: string, data: unknown) => ({ type, ts: "2025-01-01T10:00:00Z", data });

async function openSocket() {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
  const socket = FakeSocket.last;
  act(() => socket.open());
  return socket;
}

describe("DashboardPage", () => {
  it("shows each collection's state on a card", async () => {
    renderApp("/", { "GET /api/v2/collections": () => page([collection()]) });
    const card = await screen.findByRole("article", { name: "Garden notes" });
    expect(within(card).getByText("ready")).toBeInTheDocument();
    expect(within(card).getByText("12")).toBeInTheDocument();
    expect(within(card).getByText("(1 failed)")).toBeInTheDocument();
    expect(within(card).getByText("340")).toBeInTheDocument();
    expect(within(card).getByText("all-minilm-l6-v2")).toBeInTheDocument();
    expect(within(card).getByText("int8")).toBeInTheDocument();
  });

  it("says how to start when there are no collections", async () => {
    renderApp("/", {});
    expect(await screen.findByText("No collections yet")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Create your first collection" })).toHaveAttribute("href", "/collections/new");
  });

  it("follows running operations live, with rate and time left, and announces the end", async () => {
    renderApp("/", { "GET /api/v2/collections": () => page([collection()]) });
    const card = await screen.findByRole("article", { name: "Garden notes" });
    const socket = await openSocket();
    expect(socket.protocols[0]).toBe("bearer");
    act(() => socket.receive(live("snapshot", { operations: [operation()] })));
    const bar = await within(card).findByRole("progressbar", { name: "Indexing of Garden notes" });
    expect(bar).toHaveAttribute("aria-valuenow", "40");
    expect(bar).toHaveAttribute("aria-valuetext", "40 / 100 files, 2.5 files/s, about 24 s left");

    act(() => socket.receive(live("operation.progress", operation({ files_processed: 90, eta_s: 4, files_per_s: 3 }))));
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "90"));
    expect(bar).toHaveAttribute("aria-valuetext", "90 / 100 files, 3.0 files/s, about 4 s left");

    act(() => socket.receive(live("operation.completed", operation({ status: "completed", files_processed: 100 }))));
    expect(await screen.findByText("Indexing of Garden notes finished")).toBeInTheDocument();
    await waitFor(() => expect(within(card).queryByRole("progressbar")).toBeNull());
  });

  it("polls for operations only while the socket is down", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { server } = renderApp("/", { "GET /api/v2/collections": () => page([collection()]) });
    await screen.findByRole("article", { name: "Garden notes" });
    const socket = await openSocket();
    act(() => socket.receive(live("snapshot", { operations: [] })));
    const polls = () => server.calls("GET /api/v2/operations").length;
    const before = polls();
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(polls()).toBe(before);
    act(() => socket.drop());
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(polls()).toBeGreaterThanOrEqual(before + 4);
  });

  it("shows Live while the socket is open and Reconnecting when it drops", async () => {
    renderApp("/", {});
    const socket = await openSocket();
    expect(screen.getByRole("status", { name: "Live updates" })).toHaveTextContent("Live");
    act(() => socket.drop());
    expect(screen.getByRole("status", { name: "Live updates" })).toHaveTextContent("Reconnecting…");
  });
});
