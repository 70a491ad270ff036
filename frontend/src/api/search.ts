/** POST /api/v2/search, behind an adapter for the parts the server is still gaining (filters, rerank). */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { SearchFilters, SearchRequest, SearchResponse } from "./types";

const GLOB = /[*?[]/;

/**
 * The request as the server reads it. Filters and `rerank` are sent only when set, so a server
 * without them answers as before.
 * TODO(search filters): match the wire names once the filters land (assumed: path_prefix or
 * path_glob, mime_types, modified_after, modified_before).
 */
export function toWireRequest(request: SearchRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    query: request.query,
    collections: request.collections,
    k: request.k,
    mode: request.mode,
  };
  if (request.rerank) body.rerank = true;
  const filters = wireFilters(request.filters);
  if (filters) body.filters = filters;
  return body;
}

function wireFilters(filters: SearchFilters | undefined): Record<string, unknown> | null {
  if (!filters) return null;
  const wire: Record<string, unknown> = {};
  const path = filters.path?.trim();
  if (path) wire[GLOB.test(path) ? "path_glob" : "path_prefix"] = path;
  if (filters.mime_types?.length) wire.mime_types = filters.mime_types;
  if (filters.modified_after) wire.modified_after = filters.modified_after;
  if (filters.modified_before) wire.modified_before = filters.modified_before;
  return Object.keys(wire).length > 0 ? wire : null;
}

export function search(request: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
  return api.post<SearchResponse>("/api/v2/search", toWireRequest(request), { signal });
}

export function useSearch(request: SearchRequest | null) {
  return useQuery({
    queryKey: queryKeys.search(request),
    queryFn: ({ signal }) => search(request as SearchRequest, signal),
    enabled: request !== null,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
    retry: false,
  });
}
