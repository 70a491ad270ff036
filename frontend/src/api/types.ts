/**
 * The API's shapes. Auth and API keys come from the generated OpenAPI types (schema.d.ts); the
 * other endpoints are plain APIViews the schema does not describe yet, so their shapes are written
 * here from the serializers (backend/semantik/<app>/serializers.py) and README's API table. Fields
 * marked "pending" are being added on the server: the UI reads them when present.
 */
import type { components } from "./schema";

type Schemas = components["schemas"];

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

export type Precision = "float32" | "float16" | "int8";
export type ChunkingStrategy = "recursive" | "fixed";
export type CollectionStatus = "empty" | "ready" | "indexing" | "error";
/** The caller's right on a collection (pending: sharing). Absent today: every visible one is owned. */
export type CollectionRole = "owner" | "editor" | "viewer" | "public";

export interface Collection {
  id: string;
  name: string;
  description: string;
  embedding_model: string;
  precision: Precision;
  vector_dimension: number;
  chunking_strategy: ChunkingStrategy;
  chunk_size: number;
  chunk_overlap: number;
  status: CollectionStatus;
  document_count: number;
  failed_document_count: number;
  chunk_count: number;
  total_bytes: number;
  last_indexed_at: string | null;
  created_at: string;
  updated_at: string;
  sync_interval_minutes: number | null;
  /** pending: sharing */
  role?: CollectionRole;
  /** pending: sharing */
  is_public?: boolean;
  /** pending: search (collection default reranker) */
  default_reranker?: string;
}

export interface CollectionDetail extends Collection {
  vector_count: number | null;
}

export interface CollectionCreateRequest {
  name: string;
  description?: string;
  embedding_model?: string;
  precision?: Precision;
  chunking_strategy?: ChunkingStrategy;
  chunk_size?: number;
  chunk_overlap?: number;
}

export interface CollectionUpdateRequest {
  name?: string;
  description?: string;
  sync_interval_minutes?: number | null;
  /** pending: sharing (owner only) */
  is_public?: boolean;
}

export interface ReindexRequest {
  embedding_model?: string;
  precision?: Precision;
  chunking_strategy?: ChunkingStrategy;
  chunk_size?: number;
  chunk_overlap?: number;
}

export interface ModelVariant {
  name: string;
  precision: Precision;
  target: string;
  ready: boolean;
  reason: string;
}

export interface CatalogModel {
  name: string;
  kind: "embedding" | "reranker";
  source: string;
  dimension: number | null;
  max_length: number;
  pooling: string;
  query_prefix: string | null;
  document_prefix: string | null;
  activation: string | null;
  precisions: Precision[];
  ready: boolean;
  variants: ModelVariant[];
}

export interface Source {
  id: string;
  kind: "folder" | "upload";
  path: string;
  include: string[];
  exclude: string[];
  created_at: string;
  last_scanned_at: string | null;
  document_count: number;
}

export interface SourceAddRequest {
  path: string;
  include?: string[];
  exclude?: string[];
}

export type DocumentStatus = "pending" | "indexed" | "failed";

export interface DocumentInfo {
  id: string;
  source_id: string;
  relative_path: string;
  path: string;
  title: string;
  mime_type: string;
  size: number;
  /** Seconds since the epoch, as the file system reported it. */
  mtime: number | null;
  status: DocumentStatus;
  error: string;
  chunk_count: number;
  indexed_at: string | null;
  updated_at: string;
}

export interface DocumentText {
  document_id: string;
  content_hash: string;
  mime_type: string;
  characters: number;
  start: number;
  end: number;
  text: string;
  /** Character offset where each page starts (PDF, PPTX); empty for other types. */
  page_starts: number[];
}

export interface Chunk {
  index: number;
  text: string;
  start: number;
  end: number;
  page: number | null;
  heading_path?: string[];
}

export type OperationType =
  | "index"
  | "append"
  | "rescan"
  | "reindex"
  | "remove_source"
  | "delete"
  | "upload"
  | "retry"
  | "sync";
export type OperationStatus = "pending" | "processing" | "completed" | "failed" | "cancelled";

export interface Operation {
  id: string;
  collection_id: string;
  type: OperationType;
  status: OperationStatus;
  files_total: number;
  files_processed: number;
  files_skipped: number;
  files_failed: number;
  chunks_written: number;
  current_file: string;
  error: string;
  cancel_requested: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  files_per_s: number | null;
  eta_s: number | null;
}

/** 202 answer of every endpoint that starts an operation. */
export interface OperationAccepted {
  operation_id: string;
  type: OperationType;
  status: OperationStatus;
}

export interface UploadAccepted extends OperationAccepted {
  source_id: string;
  files: { relative_path: string; size: number }[];
}

export interface ChunkingPreviewRequest {
  text: string;
  file_name?: string;
  embedding_model?: string;
  chunking_strategy?: ChunkingStrategy;
  chunk_size?: number;
  chunk_overlap?: number;
}

export interface PreviewChunk {
  index: number;
  text: string;
  start: number;
  end: number;
  tokens: number;
  heading_path: string[];
}

export interface ChunkingPreview {
  embedding_model: string;
  chunking_strategy: ChunkingStrategy;
  chunk_size: number;
  chunk_overlap: number;
  characters: number;
  chunks: PreviewChunk[];
}

export type SearchMode = "semantic" | "keyword" | "hybrid";

/** pending: search filters. The UI collects them; the adapter in search.ts decides the wire shape. */
export interface SearchFilters {
  path?: string;
  mime_types?: string[];
  modified_after?: string;
  modified_before?: string;
}

export interface SearchRequest {
  query: string;
  collections: string[];
  k: number;
  mode: SearchMode;
  /** pending: search (reranking) */
  rerank?: boolean;
  /** pending: search (filters) */
  filters?: SearchFilters;
}

export interface SearchScores {
  semantic: number | null;
  keyword: number | null;
  fused: number | null;
  /** pending: search (reranking) */
  rerank?: number | null;
}

export interface SearchResult {
  text: string;
  path: string;
  score: number;
  scores: SearchScores;
  document_id: string;
  chunk_index: number;
  start: number;
  end: number;
  page: number | null;
  heading_path: string[] | null;
  collection_id: string;
  /** pending: search. Character ranges [start, end) of the query's terms in `text`. */
  highlights?: [number, number][];
  /** pending: search */
  title?: string;
  /** pending: search */
  relative_path?: string;
}

export interface SearchResponse {
  query: string;
  mode: SearchMode;
  fusion: string | null;
  results: SearchResult[];
  /** pending: search. Collections that failed while the others answered. */
  errors?: { collection_id: string; message: string }[];
  /** pending: search */
  reranker?: { name: string; applied: boolean; reason: string } | null;
}

/** pending: sharing. One user's access to a collection. */
export interface Share {
  user_id: number;
  username: string;
  role: "viewer" | "editor";
  created_at?: string;
}
