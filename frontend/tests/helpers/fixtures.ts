/** Example API objects, shaped as the server sends them. */
import type { CollectionDetail, DocumentInfo, Operation, SearchResult } from "../../src/api/types";

export function collection(overrides: Partial<CollectionDetail> = {}): CollectionDetail {
  return {
    id: "c0ffee00-0000-4000-8000-000000000001",
    name: "Garden notes",
    description: "",
    embedding_model: "all-minilm-l6-v2",
    precision: "int8",
    vector_dimension: 384,
    chunking_strategy: "recursive",
    chunk_size: 200,
    chunk_overlap: 32,
    status: "ready",
    document_count: 12,
    failed_document_count: 1,
    chunk_count: 340,
    total_bytes: 2_500_000,
    last_indexed_at: "2025-01-01T10:00:00Z",
    created_at: "2025-01-01T09:00:00Z",
    updated_at: "2025-01-01T10:00:00Z",
    sync_interval_minutes: null,
    default_reranker: "",
    owner: "alice",
    is_public: false,
    role: "owner",
    vector_count: 340,
    ...overrides,
  };
}

export function operation(overrides: Partial<Operation> = {}): Operation {
  return {
    id: "0be7a710-0000-4000-8000-000000000001",
    collection_id: collection().id,
    type: "index",
    status: "processing",
    files_total: 100,
    files_processed: 40,
    files_skipped: 0,
    files_failed: 0,
    chunks_written: 400,
    current_file: "roses/pruning.md",
    error: "",
    cancel_requested: false,
    created_at: "2025-01-01T10:00:00Z",
    started_at: "2025-01-01T10:00:01Z",
    finished_at: null,
    files_per_s: 2.5,
    eta_s: 24,
    ...overrides,
  };
}

export function searchResult(overrides: Partial<SearchResult> = {}): SearchResult {
  return {
    text: "Prune roses in late winter, when the buds swell.",
    path: "/srv/docs/garden/roses.md",
    score: 0.81,
    scores: { semantic: 0.81, keyword: null, fused: null, rerank: null },
    document_id: "d0c00000-0000-4000-8000-000000000001",
    chunk_index: 3,
    start: 120,
    end: 168,
    page: null,
    heading_path: ["Roses", "Pruning"],
    collection_id: collection().id,
    title: null,
    highlights: [],
    preview_url: "/documents/d0c00000-0000-4000-8000-000000000001?chunk=3",
    context: null,
    ...overrides,
  };
}

export function documentInfo(overrides: Partial<DocumentInfo> = {}): DocumentInfo {
  return {
    id: "d0c00000-0000-4000-8000-000000000001",
    source_id: "50000000-0000-4000-8000-000000000001",
    relative_path: "garden/roses.md",
    path: "/srv/docs/garden/roses.md",
    title: "Roses",
    mime_type: "text/markdown",
    size: 2048,
    mtime: 1735718400,
    status: "indexed",
    error: "",
    chunk_count: 5,
    indexed_at: "2025-01-01T10:00:00Z",
    updated_at: "2025-01-01T10:00:00Z",
    ...overrides,
  };
}
