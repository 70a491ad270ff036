/** The frame of every signed-in page: skip link, navigation, live status, user menu, toasts. */
import { useQueryClient } from "@tanstack/react-query";
import { NavLink, Outlet, useNavigate } from "react-router";

import { useMe } from "../api/auth";
import { useCollections } from "../api/collections";
import { useActiveOperations } from "../api/operations";
import { api } from "../api/session";
import { Toaster } from "../components/Toaster";
import { useLiveUpdates } from "../live/useLiveUpdates";
import { useUiStore, type LiveStatus } from "../stores/ui";

const NAV = [
  { to: "/", label: "Collections", end: true },
  { to: "/search", label: "Search", end: false },
  { to: "/operations", label: "Operations", end: false },
  { to: "/keys", label: "API keys", end: false },
];

const navClass = ({ isActive }: { isActive: boolean }) =>
  `whitespace-nowrap rounded-md px-3 py-2 text-sm font-medium ${
    isActive
      ? "bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-200"
      : "text-gray-700 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800"
  }`;

const LIVE_TEXT: Record<LiveStatus, string> = {
  open: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

function LiveIndicator() {
  const status = useUiStore((state) => state.liveStatus);
  const dot = status === "open" ? "bg-green-500" : status === "offline" ? "bg-gray-400" : "bg-amber-500";
  return (
    <span
      className="inline-flex items-center gap-1.5 text-xs text-gray-600 dark:text-gray-400"
      title={status === "open" ? "Live updates are on" : "Live updates are off: pages refresh every few seconds"}
    >
      <span aria-hidden="true" className={`h-2 w-2 rounded-full ${dot}`} />
      <span role="status" aria-label="Live updates">
        {LIVE_TEXT[status]}
      </span>
    </span>
  );
}

export function Layout() {
  const me = useMe();
  const collections = useCollections();
  const active = useActiveOperations();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  // The server follows the user's own and shared collections by itself; public ones are asked for.
  useLiveUpdates(
    true,
    (collections.data ?? []).filter((c) => c.role === "public").map((c) => c.id),
  );
  const running = active.data?.length ?? 0;

  const logout = async () => {
    await api.logout();
    queryClient.clear();
    void navigate("/login");
  };

  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-indigo-700"
      >
        Skip to content
      </a>
      <header className="border-b border-gray-200 bg-white dark:border-gray-800 dark:bg-gray-900">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-2">
          <NavLink to="/" className="flex items-center gap-2 text-lg font-semibold text-gray-900 dark:text-gray-50">
            <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" className="h-6 w-6" />
            Semantik
          </NavLink>
          <nav aria-label="Main" className="order-last -mx-1 flex w-full gap-1 overflow-x-auto sm:order-none sm:w-auto">
            {NAV.map((item) => (
              <NavLink key={item.to} to={item.to} end={item.end} className={navClass}>
                {item.label}
                {item.to === "/operations" && running > 0 && (
                  <span className="ml-1.5 rounded-full bg-indigo-600 px-1.5 text-xs text-white dark:bg-indigo-400 dark:text-gray-950">
                    {running}
                    <span className="sr-only"> running</span>
                  </span>
                )}
              </NavLink>
            ))}
            {me.data?.is_staff && (
              <a href="/admin/" className={navClass({ isActive: false })}>
                Admin
              </a>
            )}
          </nav>
          <div className="ml-auto flex items-center gap-3">
            <LiveIndicator />
            {me.data && <span className="hidden text-sm text-gray-700 sm:inline dark:text-gray-300">{me.data.username}</span>}
            <button
              type="button"
              onClick={() => void logout()}
              className="rounded-md px-2 py-1 text-sm text-gray-700 hover:bg-gray-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-gray-300 dark:hover:bg-gray-800"
            >
              Log out
            </button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-6xl px-4 py-6 focus:outline-none">
        <Outlet />
      </main>
      <Toaster />
    </div>
  );
}
