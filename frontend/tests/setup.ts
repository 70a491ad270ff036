import "@testing-library/jest-dom/vitest";

import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach, vi } from "vitest";

import { tokens } from "../src/api/session";
import { useUiStore } from "../src/stores/ui";
import { FakeSocket } from "./helpers/fakeSocket";

beforeEach(() => {
  // No test reaches a real server: the live socket gets a fake, fetch is stubbed per test.
  FakeSocket.instances = [];
  FakeSocket.answerPings = true;
  vi.stubGlobal("WebSocket", FakeSocket);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
  localStorage.clear();
  tokens.set(null);
  useUiStore.setState({ toasts: [], liveStatus: "offline", showScores: false });
});
