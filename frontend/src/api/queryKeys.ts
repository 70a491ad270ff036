/** Every TanStack Query key in one place: pages read them, live events write them. */
import type { DocumentStatus, OperationStatus } from "./types";

export const queryKeys = {
  me: ["me"] as const,
  models: (kind?: string) => ["models", kind ?? "all"] as const,
  collections: ["collections"] as const,
  collectionList: () => ["collections", "list"] as const,
  collection: (id: string) => ["collections", "detail", id] as const,
  sources: (collectionId: string) => ["sources", collectionId] as const,
  documentsOf: (collectionId: string) => ["documents", "list", collectionId] as const,
  documents: (collectionId: string, status: DocumentStatus | "", page: number) =>
    ["documents", "list", collectionId, status, page] as const,
  document: (id: string) => ["documents", "detail", id] as const,
  documentText: (id: string, start: number, end: number | null) =>
    ["documents", "text", id, start, end] as const,
  documentContent: (id: string) => ["documents", "content", id] as const,
  chunk: (documentId: string, index: number) => ["documents", "chunk", documentId, index] as const,
  operations: ["operations"] as const,
  operationLists: ["operations", "list"] as const,
  operationList: (filters: { collection?: string; status?: OperationStatus | ""; page?: number }) =>
    ["operations", "list", filters] as const,
  activeOperations: ["operations", "active"] as const,
  operation: (id: string) => ["operations", "detail", id] as const,
  shares: (collectionId: string) => ["shares", collectionId] as const,
  apiKeys: ["apiKeys"] as const,
  search: (request: unknown) => ["search", request] as const,
  chunkingPreview: (request: unknown) => ["chunkingPreview", request] as const,
};
