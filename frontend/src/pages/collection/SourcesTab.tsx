/** Sources: the folders and uploads a collection indexes; add a folder, upload files, rescan, remove. */
import { useId, useState, type SyntheticEvent } from "react";

import { canWrite } from "../../api/collections";
import { errorMessage, formErrors, type FormErrors } from "../../api/errors";
import { useAddSource, useRemoveSource, useRescanSource, useSources, useUpload, type UploadItem } from "../../api/sources";
import type { CollectionDetail, Source } from "../../api/types";
import { Button } from "../../components/Button";
import { TextAreaField, TextField } from "../../components/fields";
import { EmptyState, ErrorState, FormMessage, Loading } from "../../components/states";
import { formatBytes, formatCount, formatRelative, pluralise } from "../../lib/format";
import { notify } from "../../stores/ui";

export function SourcesTab({ collection }: { collection: CollectionDetail }) {
  const sources = useSources(collection.id);
  const writable = canWrite(collection);
  return (
    <div className="space-y-8">
      {sources.isPending ? (
        <Loading label="Loading sources…" />
      ) : sources.isError ? (
        <ErrorState error={sources.error} onRetry={() => void sources.refetch()} />
      ) : sources.data.length === 0 ? (
        <EmptyState title="No sources yet">
          {writable ? "Add a folder on the server or upload files below to start indexing." : "The owner has not added any."}
        </EmptyState>
      ) : (
        <ul aria-label="Sources" className="divide-y divide-gray-200 rounded-lg border border-gray-200 bg-white dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
          {sources.data.map((source) => (
            <SourceRow key={source.id} collectionId={collection.id} source={source} writable={writable} />
          ))}
        </ul>
      )}
      {writable && (
        <div className="grid gap-8 lg:grid-cols-2">
          <AddFolderForm collectionId={collection.id} />
          <UploadForm collectionId={collection.id} />
        </div>
      )}
    </div>
  );
}

function SourceRow({ collectionId, source, writable }: { collectionId: string; source: Source; writable: boolean }) {
  const rescan = useRescanSource(collectionId);
  const remove = useRemoveSource(collectionId);
  const [confirming, setConfirming] = useState(false);
  const label = source.kind === "upload" ? "Uploaded files" : source.path;
  const onError = (title: string) => (error: unknown) => notify({ kind: "error", title, body: errorMessage(error) });

  return (
    <li className="flex flex-wrap items-start justify-between gap-3 p-3">
      <div className="min-w-0 text-sm">
        <p className="break-all font-medium">{label}</p>
        <p className="text-gray-600 dark:text-gray-400">
          {source.kind === "upload" ? "upload" : "folder"} · {pluralise(source.document_count, "document")} · scanned{" "}
          {formatRelative(source.last_scanned_at)}
        </p>
        {(source.include.length > 0 || source.exclude.length > 0) && (
          <p className="break-all text-xs text-gray-600 dark:text-gray-400">
            {source.include.length > 0 && <>include {source.include.join(", ")} </>}
            {source.exclude.length > 0 && <>exclude {source.exclude.join(", ")}</>}
          </p>
        )}
      </div>
      {writable && (
        <div className="flex shrink-0 flex-wrap gap-2">
          <Button
            variant="secondary"
            size="sm"
            busy={rescan.isPending}
            onClick={() => rescan.mutate(source.id, { onError: onError("Could not rescan") })}
            aria-label={`Rescan ${label}`}
          >
            Rescan
          </Button>
          {confirming ? (
            <>
              <Button
                variant="danger"
                size="sm"
                busy={remove.isPending}
                onClick={() =>
                  remove.mutate(source.id, {
                    onError: onError("Could not remove the source"),
                    onSettled: () => setConfirming(false),
                  })
                }
              >
                Remove {pluralise(source.document_count, "document")}
              </Button>
              <Button variant="ghost" size="sm" onClick={() => setConfirming(false)}>
                Keep
              </Button>
            </>
          ) : (
            <Button variant="ghost" size="sm" onClick={() => setConfirming(true)} aria-label={`Remove ${label}`}>
              Remove
            </Button>
          )}
        </div>
      )}
    </li>
  );
}

const splitGlobs = (text: string): string[] =>
  text
    .split(/[\n,]/)
    .map((glob) => glob.trim())
    .filter(Boolean);

function AddFolderForm({ collectionId }: { collectionId: string }) {
  const add = useAddSource(collectionId);
  const [path, setPath] = useState("");
  const [include, setInclude] = useState("");
  const [exclude, setExclude] = useState("");
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!path.trim()) fields.path = "Enter the folder's path on the server.";
    else if (!path.trim().startsWith("/")) fields.path = "An absolute path, starting with /.";
    setErrors({ fields, form: null });
    if (Object.keys(fields).length > 0) return;
    add.mutate(
      { path: path.trim(), include: splitGlobs(include), exclude: splitGlobs(exclude) },
      {
        onSuccess: () => {
          notify({ kind: "info", title: "Folder added", body: "Indexing has started." });
          setPath("");
        },
        onError: (error) => setErrors(formErrors(error, ["path", "include", "exclude"])),
      },
    );
  };

  return (
    <form noValidate onSubmit={submit} aria-labelledby="add-folder-heading" className="space-y-3">
      <h2 id="add-folder-heading" className="text-base font-semibold">
        Add a folder
      </h2>
      <FormMessage message={errors.form} />
      <TextField
        label="Folder on the server"
        placeholder="/srv/documents/notes"
        value={path}
        onChange={(e) => setPath(e.target.value)}
        error={errors.fields.path}
        description="It must lie inside one of the server's document roots (DOCUMENT_PATH). Adding it again rescans it."
      />
      <TextAreaField
        label="Include only (globs, optional)"
        rows={2}
        placeholder={"**/*.md\n**/*.pdf"}
        value={include}
        onChange={(e) => setInclude(e.target.value)}
        error={errors.fields.include}
        description="One per line or comma-separated."
      />
      <TextAreaField
        label="Exclude (globs, optional)"
        rows={2}
        placeholder="**/node_modules/**"
        value={exclude}
        onChange={(e) => setExclude(e.target.value)}
        error={errors.fields.exclude}
      />
      <Button type="submit" busy={add.isPending}>
        Add folder and index
      </Button>
    </form>
  );
}

/** Hidden files and folders (".git/...") are refused by the server; leave them out. */
function isHidden(path: string): boolean {
  return path.split("/").some((part) => part.startsWith("."));
}

export function uploadItems(files: FileList | File[]): { items: UploadItem[]; skipped: number } {
  const items: UploadItem[] = [];
  let skipped = 0;
  for (const file of Array.from(files)) {
    const path = file.webkitRelativePath || file.name;
    if (isHidden(path) || file.size === 0) skipped += 1;
    else items.push({ file, path });
  }
  return { items, skipped };
}

function UploadForm({ collectionId }: { collectionId: string }) {
  const upload = useUpload(collectionId);
  const [items, setItems] = useState<UploadItem[]>([]);
  const [skipped, setSkipped] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const filesId = useId();
  const folderId = useId();
  const total = items.reduce((sum, item) => sum + item.file.size, 0);

  const choose = (files: FileList | null) => {
    if (!files) return;
    const chosen = uploadItems(files);
    setItems(chosen.items);
    setSkipped(chosen.skipped);
    setError(null);
  };

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (items.length === 0) {
      setError("Choose files or a folder first.");
      return;
    }
    upload.mutate(items, {
      onSuccess: (accepted) => {
        notify({ kind: "info", title: `Uploaded ${pluralise(accepted.files.length, "file")}`, body: "Indexing has started." });
        setItems([]);
        setSkipped(0);
      },
      onError: (err) => setError(formErrors(err).form ?? Object.values(formErrors(err).fields).join(" ")),
    });
  };

  const pickerClass =
    "cursor-pointer rounded-md border border-gray-300 px-3 py-2 text-sm font-medium hover:bg-gray-50 focus-within:outline-2 focus-within:outline-indigo-500 dark:border-gray-600 dark:hover:bg-gray-800";

  return (
    <form noValidate onSubmit={submit} aria-labelledby="upload-heading" className="space-y-3">
      <h2 id="upload-heading" className="text-base font-semibold">
        Upload files
      </h2>
      <p className="text-sm text-gray-600 dark:text-gray-400">
        Files from this computer are stored on the server in the collection's upload source. A folder keeps its layout.
      </p>
      <FormMessage message={error} />
      <div className="flex flex-wrap gap-2">
        <label htmlFor={filesId} className={pickerClass}>
          Choose files
          <input id={filesId} type="file" multiple className="sr-only" onChange={(e) => choose(e.target.files)} />
        </label>
        <label htmlFor={folderId} className={pickerClass}>
          Choose a folder
          <input
            id={folderId}
            type="file"
            multiple
            className="sr-only"
            {...{ webkitdirectory: "", directory: "" }}
            onChange={(e) => choose(e.target.files)}
          />
        </label>
      </div>
      <p aria-live="polite" className="text-sm text-gray-700 dark:text-gray-300">
        {items.length > 0
          ? `${pluralise(items.length, "file")} selected, ${formatBytes(total)}`
          : "Nothing selected."}
        {skipped > 0 && ` ${formatCount(skipped)} hidden or empty files left out.`}
      </p>
      <Button type="submit" busy={upload.isPending} disabled={items.length === 0}>
        Upload and index
      </Button>
    </form>
  );
}
