/** GET /api/v2/models: the embedding models (and rerankers) this installation serves. */
import { useQuery } from "@tanstack/react-query";

import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { CatalogModel, Paginated } from "./types";

export function useModels(kind: "embedding" | "reranker" = "embedding") {
  return useQuery({
    queryKey: queryKeys.models(kind),
    queryFn: async ({ signal }) =>
      (await api.get<Paginated<CatalogModel>>("/api/v2/models", { kind, page_size: 500 }, signal)).results,
    staleTime: 60_000,
  });
}
