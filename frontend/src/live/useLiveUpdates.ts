/** Keeps the tab's one live socket open while someone is logged in, feeding events into the cache. */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { api } from "../api/session";
import { notify, useUiStore } from "../stores/ui";
import { createLiveEventHandler } from "./events";
import { LiveSocket, liveUrl } from "./socket";

export function useLiveUpdates(enabled: boolean, subscriptions: readonly string[]): void {
  const queryClient = useQueryClient();
  const setLiveStatus = useUiStore((state) => state.setLiveStatus);
  const socketRef = useRef<LiveSocket | null>(null);

  useEffect(() => {
    if (!enabled) return;
    const handler = createLiveEventHandler(queryClient, notify);
    const socket = new LiveSocket({
      url: liveUrl(window.location),
      getToken: () => api.accessToken(),
      renewToken: async () => {
        try {
          await api.refresh();
          return true;
        } catch {
          return false;
        }
      },
      onEvent: handler.handle,
      onStatus: setLiveStatus,
    });
    socketRef.current = socket;
    socket.start();
    const wake = () => socket.reconnectNow();
    const onVisible = () => {
      if (document.visibilityState === "visible") wake();
    };
    window.addEventListener("online", wake);
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.removeEventListener("online", wake);
      document.removeEventListener("visibilitychange", onVisible);
      socket.stop();
      handler.dispose();
      socketRef.current = null;
    };
  }, [enabled, queryClient, setLiveStatus]);

  const key = subscriptions.join(",");
  useEffect(() => {
    socketRef.current?.setSubscriptions(key ? key.split(",") : []);
  }, [key, enabled]);
}
