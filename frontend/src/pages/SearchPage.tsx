/**
 * Search: a query box, the mode (semantic, keyword, hybrid), reranking, the collections to search,
 * filters; results with the query's terms highlighted, where they come from, scores on demand, and
 * keyboard navigation. The query lives in the URL, so a search can be bookmarked and shared.
 */
import { useEffect, useMemo, useRef, useState, type SyntheticEvent, type KeyboardEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { useCollections } from "../api/collections";
import { useSearch } from "../api/search";
import type { Collection, SearchMode, SearchRequest, SearchResponse, SearchResult } from "../api/types";
import { Button, ButtonLink } from "../components/Button";
import { Checkbox, SelectField, TextField, inputClass } from "../components/fields";
import { HighlightedText } from "../components/HighlightedText";
import { PageHeader, useTitle } from "../components/PageHeader";
import { EmptyState, ErrorState, Loading, Spinner } from "../components/states";
import { formatScore, pluralise } from "../lib/format";
import { useListNavigation } from "../lib/useListNavigation";
import { useUiStore } from "../stores/ui";

const MODES: { value: SearchMode; label: string; help: string }[] = [
  { value: "semantic", label: "Semantic", help: "by meaning" },
  { value: "keyword", label: "Keyword", help: "by words (BM25)" },
  { value: "hybrid", label: "Hybrid", help: "both, fused" },
];

export const FILE_TYPES: { label: string; mime: string[] }[] = [
  { label: "PDF", mime: ["application/pdf"] },
  { label: "Markdown", mime: ["text/markdown"] },
  { label: "HTML", mime: ["text/html"] },
  { label: "Plain text", mime: ["text/plain"] },
  { label: "Word", mime: ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"] },
  { label: "PowerPoint", mime: ["application/vnd.openxmlformats-officedocument.presentationml.presentation"] },
  { label: "EPUB", mime: ["application/epub+zip"] },
];

const isMode = (value: string | null): value is SearchMode => MODES.some((m) => m.value === value);

/** The search the URL describes, or null when there is nothing to run yet. */
export function requestFromParams(params: URLSearchParams, allCollections: string[]): SearchRequest | null {
  const query = params.get("q")?.trim() ?? "";
  const chosen = params.getAll("collections").flatMap((value) => value.split(",")).filter(Boolean);
  const collections = chosen.length > 0 ? chosen : allCollections;
  if (!query || collections.length === 0) return null;
  const mode = params.get("mode");
  const types = params.getAll("type");
  return {
    query,
    collections,
    k: Math.min(100, Math.max(1, Number(params.get("k")) || 10)),
    mode: isMode(mode) ? mode : "semantic",
    rerank: params.get("rerank") === "1",
    filters: {
      path: params.get("path") ?? undefined,
      mime_types: FILE_TYPES.filter((t) => types.includes(t.label)).flatMap((t) => t.mime),
      modified_after: params.get("after") ?? undefined,
      modified_before: params.get("before") ?? undefined,
    },
  };
}

export function previewLink(result: SearchResult, query: string): string {
  const params = new URLSearchParams({
    chunk: String(result.chunk_index),
    start: String(result.start),
    end: String(result.end),
    q: query,
  });
  return `/documents/${result.document_id}?${params.toString()}`;
}

export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const collections = useCollections();
  const allIds = useMemo(() => (collections.data ?? []).map((c) => c.id), [collections.data]);
  const request = useMemo(() => requestFromParams(params, allIds), [params, allIds]);
  const results = useSearch(request);
  const inputRef = useRef<HTMLInputElement>(null);
  useTitle(request ? `${request.query} – Search` : "Search");

  // "/" jumps to the search box from anywhere on the page, as on most search sites.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const typing = target && (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable);
      if (event.key === "/" && !typing) {
        event.preventDefault();
        inputRef.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (collections.isPending) return <Loading label="Loading collections…" />;
  if (collections.isError) return <ErrorState error={collections.error} onRetry={() => void collections.refetch()} />;
  if (collections.data.length === 0) {
    return (
      <div>
        <PageHeader title="Search" />
        <EmptyState title="Nothing to search yet" action={<ButtonLink to="/collections/new">Create a collection</ButtonLink>}>
          Create a collection and add documents first.
        </EmptyState>
      </div>
    );
  }

  return (
    <div>
      <PageHeader title="Search" />
      <SearchForm
        key={params.toString()}
        params={params}
        collections={collections.data}
        inputRef={inputRef}
        onSearch={(next) => setParams(next)}
        onArrowDown={() => document.querySelector<HTMLElement>("[data-result-link][tabindex='0']")?.focus()}
      />
      <div className="mt-6">
        {request === null ? (
          <p className="text-sm text-gray-600 dark:text-gray-400">
            Type a question or some words and press Enter. Tip: press / to come back to the search box, ↑ and ↓ to move
            through results.
          </p>
        ) : results.isPending ? (
          <Loading label="Searching…" />
        ) : results.isError ? (
          <ErrorState error={results.error} title="The search failed" onRetry={() => void results.refetch()} />
        ) : (
          <Results
            response={results.data}
            collections={collections.data}
            multiple={request.collections.length > 1}
            stale={results.isPlaceholderData || results.isFetching}
            onLeaveTop={() => inputRef.current?.focus()}
          />
        )}
      </div>
    </div>
  );
}

function SearchForm({
  params,
  collections,
  inputRef,
  onSearch,
  onArrowDown,
}: {
  params: URLSearchParams;
  collections: Collection[];
  inputRef: React.RefObject<HTMLInputElement | null>;
  onSearch: (params: URLSearchParams) => void;
  onArrowDown: () => void;
}) {
  const showScores = useUiStore((state) => state.showScores);
  const setShowScores = useUiStore((state) => state.setShowScores);
  const initialMode = params.get("mode");
  const [query, setQuery] = useState(params.get("q") ?? "");
  const [mode, setMode] = useState<SearchMode>(isMode(initialMode) ? initialMode : "semantic");
  const [rerank, setRerank] = useState(params.get("rerank") === "1");
  const [k, setK] = useState(params.get("k") ?? "10");
  const chosenParam = params.getAll("collections").flatMap((v) => v.split(",")).filter(Boolean);
  const [chosen, setChosen] = useState<Set<string>>(new Set(chosenParam.length > 0 ? chosenParam : collections.map((c) => c.id)));
  const [path, setPath] = useState(params.get("path") ?? "");
  const [types, setTypes] = useState<string[]>(params.getAll("type"));
  const [after, setAfter] = useState(params.get("after") ?? "");
  const [before, setBefore] = useState(params.get("before") ?? "");
  const [error, setError] = useState<string | null>(null);
  const filtersActive = Boolean(path || types.length || after || before);

  const submit = (event?: SyntheticEvent, overrides: { mode?: SearchMode } = {}) => {
    event?.preventDefault();
    if (!query.trim()) {
      setError("Type something to search for.");
      return;
    }
    if (chosen.size === 0) {
      setError("Choose at least one collection.");
      return;
    }
    const next = new URLSearchParams({ q: query.trim(), mode: overrides.mode ?? mode });
    if (chosen.size < collections.length) next.set("collections", [...chosen].join(","));
    if (rerank) next.set("rerank", "1");
    if (k !== "10") next.set("k", k);
    if (path.trim()) next.set("path", path.trim());
    for (const type of types) next.append("type", type);
    if (after) next.set("after", after);
    if (before) next.set("before", before);
    onSearch(next);
  };

  const toggle = (id: string) =>
    setChosen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const onQueryKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      onArrowDown();
    }
  };

  return (
    <form role="search" aria-label="Search documents" noValidate onSubmit={submit} className="space-y-4">
      <div className="flex flex-col gap-2 sm:flex-row">
        <div className="flex-1">
          <label htmlFor="search-query" className="sr-only">
            Search query
          </label>
          <input
            id="search-query"
            ref={inputRef}
            type="search"
            // eslint-disable-next-line jsx-a11y/no-autofocus -- the page exists for this one field
            autoFocus
            autoComplete="off"
            placeholder="Ask a question or type some words…"
            className={`${inputClass} py-2.5 text-base`}
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setError(null);
            }}
            onKeyDown={onQueryKey}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "search-error" : undefined}
          />
        </div>
        <Button type="submit" className="sm:w-28">
          Search
        </Button>
      </div>
      {error && (
        <p id="search-error" role="alert" className="text-sm text-red-700 dark:text-red-300">
          {error}
        </p>
      )}
      <div className="flex flex-wrap items-center gap-x-6 gap-y-3">
        <fieldset className="flex items-center gap-2">
          <legend className="sr-only">Search mode</legend>
          <div className="inline-flex rounded-md border border-gray-300 p-0.5 dark:border-gray-600">
            {MODES.map((m) => (
              <label
                key={m.value}
                title={m.help}
                className={`cursor-pointer rounded px-3 py-1 text-sm focus-within:outline-2 focus-within:outline-indigo-500 ${
                  mode === m.value
                    ? "bg-indigo-600 text-white dark:bg-indigo-500 dark:text-gray-950"
                    : "text-gray-700 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800"
                }`}
              >
                <input
                  type="radio"
                  name="mode"
                  value={m.value}
                  checked={mode === m.value}
                  onChange={() => {
                    setMode(m.value);
                    // Switching the mode of a search on screen runs it again in that mode.
                    if (params.get("q")) submit(undefined, { mode: m.value });
                  }}
                  className="sr-only"
                />
                {m.label}
              </label>
            ))}
          </div>
        </fieldset>
        <Checkbox label="Rerank" checked={rerank} onChange={(e) => setRerank(e.target.checked)} />
        <Checkbox label="Show scores" checked={showScores} onChange={(e) => setShowScores(e.target.checked)} />
        <SelectField label="Results" value={k} onChange={(e) => setK(e.target.value)} fieldClassName="flex items-center gap-2 space-y-0">
          {["10", "20", "50", "100"].map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </SelectField>
      </div>
      <details className="rounded-md border border-gray-200 p-3 dark:border-gray-800" open={chosen.size < collections.length || filtersActive}>
        <summary className="cursor-pointer text-sm font-medium">
          Collections and filters
          <span className="font-normal text-gray-600 dark:text-gray-400">
            {" "}
            ({chosen.size} of {collections.length} collections{filtersActive ? ", filtered" : ""})
          </span>
        </summary>
        <div className="mt-3 grid gap-4 md:grid-cols-2">
          <fieldset className="space-y-1.5">
            <legend className="mb-1 text-sm font-medium">Collections</legend>
            <div className="mb-1 flex gap-3 text-xs">
              <button type="button" className="underline" onClick={() => setChosen(new Set(collections.map((c) => c.id)))}>
                All
              </button>
              <button type="button" className="underline" onClick={() => setChosen(new Set())}>
                None
              </button>
            </div>
            {collections.map((c) => (
              <Checkbox key={c.id} label={c.name} checked={chosen.has(c.id)} onChange={() => toggle(c.id)} />
            ))}
          </fieldset>
          <div className="space-y-3">
            <TextField
              label="Path"
              placeholder="reports/2024/ or **/*.md"
              value={path}
              onChange={(e) => setPath(e.target.value)}
              description="A folder prefix or a glob."
            />
            <fieldset>
              <legend className="mb-1 text-sm font-medium">File types</legend>
              <div className="flex flex-wrap gap-x-4 gap-y-1">
                {FILE_TYPES.map((t) => (
                  <Checkbox
                    key={t.label}
                    label={t.label}
                    checked={types.includes(t.label)}
                    onChange={(e) => setTypes((current) => (e.target.checked ? [...current, t.label] : current.filter((x) => x !== t.label)))}
                  />
                ))}
              </div>
            </fieldset>
            <div className="grid grid-cols-2 gap-3">
              <TextField label="Modified after" type="date" value={after} onChange={(e) => setAfter(e.target.value)} />
              <TextField label="Modified before" type="date" value={before} onChange={(e) => setBefore(e.target.value)} />
            </div>
          </div>
        </div>
      </details>
    </form>
  );
}

function Results({
  response,
  collections,
  multiple,
  stale,
  onLeaveTop,
}: {
  response: SearchResponse;
  collections: Collection[];
  multiple: boolean;
  stale: boolean;
  onLeaveTop: () => void;
}) {
  const navigation = useListNavigation(response.results.length, onLeaveTop);
  const names = new Map(collections.map((c) => [c.id, c.name]));
  return (
    <section aria-labelledby="results-heading" aria-busy={stale}>
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="results-heading" className="text-base font-semibold">
          {pluralise(response.results.length, "result")}
          <span className="font-normal text-gray-600 dark:text-gray-400"> · {response.mode}</span>
        </h2>
        {stale && <Spinner size="sm" label="Updating…" />}
      </div>
      {response.reranker && !response.reranker.applied && (
        <p role="note" className="mb-3 text-sm text-amber-800 dark:text-amber-200">
          Not reranked{response.reranker.reason ? `: ${response.reranker.reason}` : "."}
        </p>
      )}
      {response.errors.length > 0 && (
        <ul role="alert" className="mb-3 space-y-1 text-sm text-amber-800 dark:text-amber-200">
          {response.errors.map((e) => (
            <li key={e.collection_id}>
              {names.get(e.collection_id) ?? "A collection"} could not be searched: {e.message}
            </li>
          ))}
        </ul>
      )}
      {response.results.length === 0 ? (
        <EmptyState title="No results">Try other words, another mode, or more collections.</EmptyState>
      ) : (
        <ol aria-label="Search results" className="space-y-3">
          {response.results.map((result, index) => (
            <ResultItem
              key={`${result.document_id}:${result.chunk_index}`}
              result={result}
              query={response.query}
              collectionName={multiple ? names.get(result.collection_id) : undefined}
              linkProps={navigation.itemProps(index)}
            />
          ))}
        </ol>
      )}
    </section>
  );
}

function ResultItem({
  result,
  query,
  collectionName,
  linkProps,
}: {
  result: SearchResult;
  query: string;
  collectionName: string | undefined;
  linkProps: ReturnType<ReturnType<typeof useListNavigation>["itemProps"]>;
}) {
  const showScores = useUiStore((state) => state.showScores);
  const path = result.path;
  const title = result.title || path.split("/").pop() || path;
  const ranges = result.highlights;
  const location = [
    result.heading_path.length > 0 ? result.heading_path.join(" › ") : null,
    result.page ? `page ${result.page}` : null,
  ].filter(Boolean);

  return (
    <li>
      <article className="rounded-lg border border-gray-200 bg-white p-4 focus-within:border-indigo-400 dark:border-gray-800 dark:bg-gray-900 dark:focus-within:border-indigo-500">
        <h3 className="text-base font-medium">
          <Link
            to={previewLink(result, query)}
            data-result-link=""
            className="text-indigo-700 hover:underline dark:text-indigo-300"
            {...linkProps}
          >
            {title}
          </Link>
        </h3>
        <p className="break-all font-mono text-xs text-gray-600 dark:text-gray-400">
          {collectionName && <span className="font-sans">{collectionName} · </span>}
          {path}
        </p>
        {location.length > 0 && <p className="text-xs text-gray-700 dark:text-gray-300">{location.join(" · ")}</p>}
        <p className="mt-2 whitespace-pre-line break-words text-sm leading-relaxed">
          <HighlightedText text={result.text} ranges={ranges} />
        </p>
        {showScores && (
          <dl aria-label="Scores" className="mt-2 flex flex-wrap gap-x-4 gap-y-1 font-mono text-xs text-gray-700 dark:text-gray-300">
            <div className="flex gap-1">
              <dt>score</dt>
              <dd>{formatScore(result.score)}</dd>
            </div>
            {(["semantic", "keyword", "fused", "rerank"] as const).map((name) => (
              <div key={name} className="flex gap-1">
                <dt>{name}</dt>
                <dd>{formatScore(result.scores[name])}</dd>
              </div>
            ))}
          </dl>
        )}
      </article>
    </li>
  );
}
