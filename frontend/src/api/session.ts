/** The tab's one API client and token store, and the hook that says whether someone is logged in. */
import { useSyncExternalStore } from "react";

import { ApiClient } from "./client";
import { TokenStore } from "./tokens";

export const tokens = new TokenStore();

type SessionListener = () => void;
const sessionEndedListeners = new Set<SessionListener>();

export const api = new ApiClient({
  tokens,
  onSessionEnded: () => {
    for (const listener of sessionEndedListeners) listener();
  },
});

/** Runs `listener` when the server ends the session (refresh token expired or revoked). */
export function onSessionEnded(listener: SessionListener): () => void {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

export function useIsAuthenticated(): boolean {
  return useSyncExternalStore(
    (listener) => tokens.subscribe(listener),
    () => tokens.get() !== null,
  );
}
