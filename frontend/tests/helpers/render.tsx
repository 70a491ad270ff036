/** Renders the app at a route, logged in (or not), against a fake server. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { MemoryRouter, useLocation } from "react-router";
import { vi } from "vitest";

import { tokens } from "../../src/api/session";
import { AppRoutes } from "../../src/app/App";
import { fakeServer, jwt, type Handler } from "./api";

export const ME = { id: 1, username: "ada", email: "", is_staff: false, date_joined: "2025-01-01T00:00:00Z", auth: "jwt", scopes: ["read", "search", "write"] };

export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } } });
}

/** Shows the current location, so tests can see where navigation went. */
function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}

export function renderApp(path: string, routes: Record<string, Handler>, { loggedIn = true } = {}) {
  const server = fakeServer({
    "GET /api/auth/me": () => ME,
    "GET /api/v2/collections": () => ({ count: 0, next: null, previous: null, results: [] }),
    "GET /api/v2/operations": () => ({ count: 0, next: null, previous: null, results: [] }),
    ...routes,
  });
  vi.stubGlobal("fetch", server.fetch);
  if (loggedIn) tokens.set({ access: jwt(900), refresh: jwt(86400) });
  const queryClient = testQueryClient();
  const view = render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={[path]}>
        <AppRoutes />
        <LocationProbe />
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...view, server, queryClient };
}

export const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });
