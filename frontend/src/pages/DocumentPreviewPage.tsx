/**
 * A document opened at a chunk: the chunk highlighted (and the query's terms in it), scrolled into
 * view and focused. Markdown and HTML are rendered from the original file (sanitised, nothing runs
 * or loads) with the chunk found in the rendered text; the Text view shows the extracted text the
 * chunk offsets point into, PDF and PPTX text marked by page.
 */
import { useEffect, useRef, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";

import { openOriginal, useChunk, useDocument, useDocumentContent, useDocumentText } from "../api/documents";
import { ApiError, errorMessage } from "../api/errors";
import type { DocumentInfo } from "../api/types";
import { Button } from "../components/Button";
import { HighlightedText } from "../components/HighlightedText";
import { PageHeader, useTitle } from "../components/PageHeader";
import { RenderedDocument, type LocateOutcome } from "../components/RenderedDocument";
import { ErrorState, Loading } from "../components/states";
import { formatBytes, formatCount } from "../lib/format";
import { termRanges } from "../lib/highlight";
import { renderKind } from "../lib/rendering";
import { notify } from "../stores/ui";

/** Characters shown on each side of the chunk, and how many more each "show more" adds. */
export const CONTEXT_CHARS = 20_000;
const MORE_CHARS = 50_000;
const WHOLE_TEXT = 200_000;
/** Originals larger than this are shown as text: rendering and searching them would stall the tab. */
export const RENDER_MAX_BYTES = 2 * 1024 * 1024;

type View = "rendered" | "text";

const readInt = (value: string | null): number | null =>
  value !== null && /^\d+$/.test(value) ? Number(value) : null;

/** The page (1-based) a character offset is on, from the offsets where pages start. */
export function pageAt(pageStarts: readonly number[], offset: number): number | null {
  if (pageStarts.length === 0) return null;
  let page = 0;
  for (const start of pageStarts) if (start <= offset) page += 1;
  return Math.max(1, page);
}

export function DocumentPreviewPage() {
  const { documentId = "" } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const query = params.get("q") ?? "";
  const chunkIndex = readInt(params.get("chunk"));
  const givenStart = readInt(params.get("start"));
  const givenEnd = readInt(params.get("end"));
  const document = useDocument(documentId);
  // A link with only ?chunk= (the search API's preview_url) looks the chunk's offsets up.
  const chunk = useChunk(documentId, givenStart === null ? chunkIndex : null);
  const chunkStart = givenStart ?? chunk.data?.start ?? null;
  const chunkEnd = givenEnd ?? chunk.data?.end ?? null;
  const waitingForChunk = givenStart === null && chunkIndex !== null && chunk.isPending;
  useTitle(document.data ? document.data.title || document.data.relative_path : "Document");

  const [extra, setExtra] = useState({ before: 0, after: 0 });
  const windowStart = chunkStart === null ? 0 : Math.max(0, chunkStart - CONTEXT_CHARS - extra.before);
  const windowEnd = chunkEnd === null ? WHOLE_TEXT + extra.after : chunkEnd + CONTEXT_CHARS + extra.after;
  const text = useDocumentText(documentId, windowStart, windowEnd, !waitingForChunk);

  const kind = document.data ? renderKind(document.data.mime_type) : null;
  const renderable = kind !== null && (document.data?.size ?? 0) <= RENDER_MAX_BYTES;
  const [chosenView, setChosenView] = useState<View | null>(null);
  // Whether the passage was found in the rendering, for this document and chunk.
  const passageKey = `${documentId}:${chunkStart ?? ""}:${chunkEnd ?? ""}`;
  const [located, setLocated] = useState<{ key: string; outcome: LocateOutcome } | null>(null);
  const outcome = located?.key === passageKey ? located.outcome : null;
  const view: View = chosenView ?? (renderable && outcome !== "not-found" ? "rendered" : "text");
  const content = useDocumentContent(documentId, renderable && view === "rendered");

  if (document.isPending || waitingForChunk) return <Loading label="Loading the document…" />;
  if (document.isError) return <ErrorState error={document.error} onRetry={() => void document.refetch()} />;

  const info = document.data;
  const pages = text.data?.page_starts ?? [];
  const chunkPage = chunkStart !== null ? pageAt(pages, chunkStart) : null;

  return (
    <div>
      <PageHeader
        title={info.title || info.relative_path}
        subtitle={
          <>
            <span className="break-all font-mono">{info.relative_path}</span> · {info.mime_type} · {formatBytes(info.size)}
            {text.data && <> · {formatCount(text.data.characters)} characters</>}
            {pages.length > 0 && <> · {pages.length} pages</>}
          </>
        }
        actions={
          <>
            <Button variant="secondary" onClick={() => void navigate(-1)}>
              Back
            </Button>
            <OpenOriginalButton document={info} page={chunkPage} />
          </>
        }
      />
      {chunkStart !== null && (
        <p className="mb-3 text-sm text-gray-700 dark:text-gray-300">
          Showing {chunkIndex !== null ? `chunk ${chunkIndex + 1}` : "the passage"}
          {chunkPage !== null && `, page ${chunkPage}`}
          {chunk.data?.heading_path && chunk.data.heading_path.length > 0 && `, under ${chunk.data.heading_path.join(" › ")}`}.{" "}
          <a href="#chunk" className="text-indigo-700 underline dark:text-indigo-300">
            Jump to it
          </a>
        </p>
      )}
      {kind !== null && (
        <ViewSwitch
          view={view}
          renderable={renderable}
          onChange={setChosenView}
          note={
            !renderable
              ? "This file is too large to render here, so its text is shown."
              : outcome === "not-found"
                ? view === "text"
                  ? "The passage could not be found in the rendered page, so the text it comes from is shown."
                  : "The passage could not be found in the rendered page; the Text view shows it."
                : null
          }
        />
      )}
      {text.isPending || (view === "rendered" && content.isPending) ? (
        <Loading label={view === "rendered" ? "Loading the document…" : "Loading the text…"} />
      ) : view === "rendered" && content.isError ? (
        <ErrorState error={content.error} title="Could not read the file" onRetry={() => void content.refetch()} />
      ) : text.isError ? (
        <ErrorState
          error={text.error}
          title={
            text.error instanceof ApiError && text.error.status === 409
              ? "The file changed since it was indexed"
              : "Could not read the document's text"
          }
          onRetry={() => void text.refetch()}
        />
      ) : view === "rendered" && kind !== null && content.data !== undefined ? (
        <RenderedDocument
          source={content.data}
          kind={kind}
          passage={
            chunkStart !== null && chunkEnd !== null
              ? text.data.text.slice(chunkStart - text.data.start, chunkEnd - text.data.start)
              : null
          }
          hint={chunkStart !== null && text.data.characters > 0 ? chunkStart / text.data.characters : 0}
          query={query}
          onLocate={(result) => setLocated({ key: passageKey, outcome: result })}
        />
      ) : (
        <div className="space-y-2">
          {text.data.start > 0 && (
            <Button variant="ghost" size="sm" onClick={() => setExtra((e) => ({ ...e, before: e.before + MORE_CHARS }))}>
              Show earlier text
            </Button>
          )}
          <DocumentText
            text={text.data.text}
            offset={text.data.start}
            pageStarts={pages}
            chunk={chunkStart !== null && chunkEnd !== null ? [chunkStart, chunkEnd] : null}
            query={query}
          />
          {text.data.end < text.data.characters && (
            <Button variant="ghost" size="sm" onClick={() => setExtra((e) => ({ ...e, after: e.after + MORE_CHARS }))}>
              Show later text
            </Button>
          )}
        </div>
      )}
    </div>
  );
}

/** Rendered / Text, for the documents the preview can render; a quiet note says why the view changed. */
function ViewSwitch({
  view,
  renderable,
  onChange,
  note,
}: {
  view: View;
  renderable: boolean;
  onChange: (view: View) => void;
  note: string | null;
}) {
  const option = (value: View, label: string, disabled = false) => (
    <button
      type="button"
      aria-pressed={view === value}
      disabled={disabled}
      onClick={() => onChange(value)}
      className={
        "px-3 py-1 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:opacity-50 " +
        (view === value
          ? "bg-indigo-600 text-white"
          : "bg-white text-gray-800 hover:bg-gray-100 dark:bg-gray-900 dark:text-gray-200 dark:hover:bg-gray-800")
      }
    >
      {label}
    </button>
  );
  return (
    <div className="mb-3 flex flex-wrap items-center gap-3">
      <div role="group" aria-label="View" className="inline-flex overflow-hidden rounded-md border border-gray-300 dark:border-gray-600">
        {option("rendered", "Rendered", !renderable)}
        {option("text", "Text")}
      </div>
      {note && (
        <p role="status" className="text-sm text-gray-600 dark:text-gray-400">
          {note}
        </p>
      )}
    </div>
  );
}

function OpenOriginalButton({ document, page }: { document: DocumentInfo; page: number | null }) {
  const [busy, setBusy] = useState(false);
  const isPdf = document.mime_type === "application/pdf";
  return (
    <Button
      variant="secondary"
      busy={busy}
      onClick={() => {
        setBusy(true);
        openOriginal(document, page)
          .catch((error: unknown) => notify({ kind: "error", title: "Could not open the file", body: errorMessage(error) }))
          .finally(() => setBusy(false));
      }}
    >
      {isPdf ? "Open the PDF" : "Download the original"}
    </Button>
  );
}

interface Piece {
  start: number;
  end: number;
  page: number | null;
}

/** The window cut at page starts, each piece knowing its page. */
function pieces(offset: number, length: number, pageStarts: readonly number[]): Piece[] {
  const end = offset + length;
  const cuts = pageStarts.filter((p) => p > offset && p < end);
  const bounds = [offset, ...cuts, end];
  return bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1] ?? end, page: pageAt(pageStarts, start) }));
}

export function DocumentText({
  text,
  offset,
  pageStarts,
  chunk,
  query,
}: {
  text: string;
  offset: number;
  pageStarts: readonly number[];
  chunk: [number, number] | null;
  query: string;
}) {
  const chunkRef = useRef<HTMLElement | null>(null);
  const [chunkStart, chunkEnd] = chunk ?? [-1, -1];

  useEffect(() => {
    const element = chunkRef.current;
    if (!element) return;
    if (typeof element.scrollIntoView === "function") element.scrollIntoView({ block: "center" });
    element.focus({ preventScroll: true });
  }, [chunkStart, chunkEnd, offset]);

  let chunkRefUsed = false;
  return (
    <div className="rounded-lg border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900">
      {pieces(offset, text.length, pageStarts).map((piece) => {
        const pieceText = text.slice(piece.start - offset, piece.end - offset);
        const from = Math.max(chunkStart, piece.start);
        const to = Math.min(chunkEnd, piece.end);
        const showPage = pageStarts.length > 0 && (piece.start === pageStarts[(piece.page ?? 1) - 1] || piece.start === offset);
        let body;
        if (from < to) {
          const before = pieceText.slice(0, from - piece.start);
          const inside = pieceText.slice(from - piece.start, to - piece.start);
          const after = pieceText.slice(to - piece.start);
          const first = !chunkRefUsed;
          chunkRefUsed = true;
          body = (
            <>
              {before}
              <mark
                data-passage=""
                id={first ? "chunk" : undefined}
                ref={first ? chunkRef : undefined}
                tabIndex={first ? -1 : undefined}
                aria-label={first ? "The passage you opened" : undefined}
                className="rounded-sm bg-amber-100 text-inherit outline-none ring-2 ring-amber-300 focus:ring-indigo-500 dark:bg-amber-900/50 dark:ring-amber-700"
              >
                <HighlightedText text={inside} ranges={query ? termRanges(inside, query) : []} />
              </mark>
              {after}
            </>
          );
        } else {
          body = pieceText;
        }
        return (
          <div key={piece.start}>
            {showPage && piece.page !== null && (
              <p className="my-3 border-b border-gray-200 pb-1 text-xs font-medium uppercase tracking-wide text-gray-600 dark:border-gray-700 dark:text-gray-400">
                Page {piece.page}
              </p>
            )}
            <p className="whitespace-pre-wrap break-words font-serif text-[15px] leading-relaxed">{body}</p>
          </div>
        );
      })}
    </div>
  );
}
