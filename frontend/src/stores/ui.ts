/** UI state that is no server's: toasts, the live socket's status, search display preferences. */
import { create } from "zustand";
import { persist } from "zustand/middleware";

export type ToastKind = "success" | "error" | "info";

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: string;
}

/** `open`: events flow and nothing polls. Anything else: pages poll as a fallback. */
export type LiveStatus = "connecting" | "open" | "reconnecting" | "offline";

interface UiState {
  toasts: Toast[];
  liveStatus: LiveStatus;
  showScores: boolean;
  notify: (toast: Omit<Toast, "id">) => number;
  dismiss: (id: number) => void;
  setLiveStatus: (status: LiveStatus) => void;
  setShowScores: (show: boolean) => void;
}

let nextToastId = 1;
const MAX_TOASTS = 5;

export const useUiStore = create<UiState>()(
  persist(
    (set) => ({
      toasts: [],
      liveStatus: "offline",
      showScores: false,
      notify: (toast) => {
        const id = nextToastId++;
        set((state) => ({ toasts: [...state.toasts, { ...toast, id }].slice(-MAX_TOASTS) }));
        return id;
      },
      dismiss: (id) => set((state) => ({ toasts: state.toasts.filter((t) => t.id !== id) })),
      setLiveStatus: (liveStatus) => set({ liveStatus }),
      setShowScores: (showScores) => set({ showScores }),
    }),
    { name: "semantik.ui", partialize: (state) => ({ showScores: state.showScores }) },
  ),
);

export const notify = (toast: Omit<Toast, "id">): number => useUiStore.getState().notify(toast);

/** How often a page polls what live events would otherwise keep fresh: never while the socket is open. */
export function useFallbackInterval(ms = 5000): number | false {
  return useUiStore((state) => (state.liveStatus === "open" ? false : ms));
}
