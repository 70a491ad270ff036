/**
 * A document's extracted text, opened at a chunk: the chunk highlighted (and the query's terms in
 * it), scrolled into view and focused; PDF and PPTX text marked by page. The text is what the
 * chunk offsets point into, shown as text: a Markdown or HTML file's markup never runs here.
 */
import { useEffect, useRef, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";

import { openOriginal, useChunk, useDocument, useDocumentText } from "../api/documents";
import { ApiError, errorMessage } from "../api/errors";
import type { DocumentInfo } from "../api/types";
import { Button } from "../components/Button";
import { HighlightedText } from "../components/HighlightedText";
import { PageHeader, useTitle } from "../components/PageHeader";
import { ErrorState, Loading } from "../components/states";
import { formatBytes, formatCount } from "../lib/format";
import { termRanges } from "../lib/highlight";
import { notify } from "../stores/ui";

/** Characters shown on each side of the chunk, and how many more each "show more" adds. */
export const CONTEXT_CHARS = 20_000;
const MORE_CHARS = 50_000;
const WHOLE_TEXT = 200_000;

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
      {text.isPending ? (
        <Loading label="Loading the text…" />
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
