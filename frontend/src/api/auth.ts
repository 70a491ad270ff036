/** Login, registration, logout and the current user. */
import { useQuery } from "@tanstack/react-query";

import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { Me, RegisterRequest, RegisteredUser } from "./types";

export function useMe() {
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => api.get<Me>("/api/auth/me", undefined, signal),
    staleTime: 5 * 60_000,
  });
}

export function register(body: RegisterRequest): Promise<RegisteredUser> {
  return api.request<RegisteredUser>("POST", "/api/auth/register", { body, auth: false });
}
