/** Sends visitors without a session to the login page, and back here afterwards. */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, type ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { onSessionEnded, useIsAuthenticated } from "../api/session";
import { notify } from "../stores/ui";

export function RequireAuth({ children }: { children: ReactNode }) {
  const authenticated = useIsAuthenticated();
  const location = useLocation();
  const queryClient = useQueryClient();

  useEffect(
    () =>
      onSessionEnded(() => {
        queryClient.clear();
        notify({ kind: "info", title: "Your session has ended", body: "Log in again to continue." });
      }),
    [queryClient],
  );

  if (!authenticated) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return children;
}
