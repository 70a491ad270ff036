/** POST /api/v2/search: the page's search turned into the body the server reads. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { queryKeys } from "./queryKeys";
import { api } from "./session";
import type { SearchFilters, SearchRequest, SearchResponse, SearchWireFilters, SearchWireRequest } from "./types";

const GLOB = /[*?[]/;

/**
 * The request body. `rerank` is sent only when asked for, so a collection's default reranker
 * still applies otherwise; filters only when one is set.
 */
export function toWireRequest(request: SearchRequest): SearchWireRequest {
  const body: SearchWireRequest = {
    query: request.query,
    collections: request.collections,
    limit: request.k,
    mode: request.mode,
  };
  if (request.rerank) body.rerank = true;
  const filters = wireFilters(request.filters);
  if (filters) body.filters = filters;
  return body;
}

/** The page's one path box is a prefix, or a glob when it holds glob characters. */
function wireFilters(filters: SearchFilters | undefined): SearchWireFilters | null {
  if (!filters) return null;
  const wire: SearchWireFilters = {};
  const path = filters.path?.trim();
  if (path) {
    if (GLOB.test(path)) wire.path_glob = path;
    else wire.path_prefix = path;
  }
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
