/** API keys: list, create (the key is in that one answer), revoke. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { ApiKey, ApiKeyCreateRequest, ApiKeyCreated, Paginated } from "./types";

export function useApiKeys() {
  return useQuery({
    queryKey: queryKeys.apiKeys,
    queryFn: async ({ signal }) =>
      (await api.get<Paginated<ApiKey>>("/api/auth/keys", { page_size: 500 }, signal)).results,
  });
}

export function useCreateApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiKeyCreateRequest) => api.post<ApiKeyCreated>("/api/auth/keys", body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys }),
  });
}

export function useRevokeApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/auth/keys/${encodeURIComponent(id)}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys }),
  });
}
