/**
 * The API's shapes, from the types generated out of the server's OpenAPI description
 * (schema.d.ts, `npm run schema`). Where the description is looser than what the server sends
 * (a role as a plain string, globs as any JSON), the type narrows it, saying why; the UI-side
 * shapes (a search as the page holds it) are at the end.
 */
import type { components } from "./schema";

type Schemas = components["schemas"];
/** A request body whose fields with server-side defaults may be left out (the generator marks them required). */
type WithDefaults<T, Defaulted extends keyof T> = Omit<T, Defaulted> & Partial<Pick<T, Defaulted>>;

export type TokenPair = Schemas["TokenPair"];
export type Me = Schemas["Me"];
export type RegisterRequest = Schemas["RegisterRequest"];
export type RegisteredUser = Schemas["User"];
export type ApiKey = Schemas["ApiKey"];
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
export type ApiKeyCreateRequest = Schemas["ApiKeyCreateRequest"];
export type ApiKeyScope = Schemas["ScopesEnum"];

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type Precision = Schemas["PrecisionEnum"];
export type ChunkingStrategy = Schemas["ChunkingStrategyEnum"];
export type CollectionStatus = Schemas["CollectionStatusEnum"];
/** The caller's right on a collection (the serializer's `role` is a plain CharField). */
export type CollectionRole = "owner" | "editor" | "viewer" | "public";

export type Collection = Omit<Schemas["Collection"], "role"> & { readonly role: CollectionRole };
export type CollectionDetail = Omit<Schemas["CollectionDetail"], "role"> & { readonly role: CollectionRole };
export type CollectionCreateRequest = WithDefaults<
  Schemas["CollectionCreateRequest"],
  "description" | "chunking_strategy" | "default_reranker"
>;
export type CollectionUpdateRequest = Schemas["PatchedCollectionUpdateRequest"];
export type ReindexRequest = Schemas["ReindexRequest"];

/** The catalog describes precisions and kinds as strings; they are the collection's enums. */
export type ModelVariant = Omit<Schemas["Variant"], "precision"> & { precision: Precision };
export type CatalogModel = Omit<Schemas["CatalogModel"], "kind" | "precisions" | "variants"> & {
  kind: "embedding" | "reranker";
  precisions: Precision[];
  readonly variants: ModelVariant[];
};

/** `include` and `exclude` are JSON fields, described as any JSON: lists of globs. */
export type Source = Omit<Schemas["Source"], "include" | "exclude"> & {
  readonly include: string[];
  readonly exclude: string[];
};
export type SourceAddRequest = Schemas["SourceAddRequest"];

export type DocumentStatus = Schemas["DocumentStatusEnum"];
/** `mtime`: seconds since the epoch, as the file system reported it (null before the first scan). */
export type DocumentInfo = Omit<Schemas["Document"], "mtime"> & { readonly mtime: number | null };
export type DocumentText = Schemas["DocumentText"];
export type Chunk = Schemas["DocumentChunk"];

export type OperationType = Schemas["OperationTypeEnum"];
export type OperationStatus = Schemas["OperationStatusEnum"];
export type Operation = Schemas["Operation"];
/** 202 answer of every endpoint that starts an operation. */
export type OperationAccepted = Schemas["OperationQueued"];
export type UploadAccepted = Schemas["UploadQueued"];

export type ChunkingPreviewRequest = Schemas["ChunkingPreviewRequest"];
export type PreviewChunk = Schemas["PreviewChunk"];
export type ChunkingPreview = Schemas["ChunkingPreviewResult"];

export type SearchMode = Schemas["SearchModeEnum"];
/** The body of POST /api/v2/search and its `filters`, as the server reads them. */
export type SearchWireRequest = WithDefaults<Schemas["SearchRequestRequest"], "offset" | "context">;
export type SearchWireFilters = Schemas["SearchFiltersRequest"];
export type SearchScores = Schemas["Scores"];
/** `highlights`: code-point ranges [start, end) of the query's terms in `text`. */
export type SearchResult = Omit<Schemas["SearchResult"], "highlights"> & { highlights: [number, number][] };
export type SearchResponse = Omit<Schemas["SearchResponse"], "results"> & { results: SearchResult[] };

/** One user's access to a collection. */
export type Share = Schemas["Share"];
export type ShareCreateRequest = Schemas["ShareCreateRequest"];
export type ShareList = Schemas["ShareList"];

/** The filters as the search page holds them: one path box (a prefix, or a glob when it has one). */
export interface SearchFilters {
  path?: string;
  mime_types?: string[];
  modified_after?: string;
  modified_before?: string;
}

/** A search as the page holds it (the URL's state); search.ts turns it into a SearchWireRequest. */
export interface SearchRequest {
  query: string;
  collections: string[];
  k: number;
  mode: SearchMode;
  rerank?: boolean;
  filters?: SearchFilters;
}
