/** API keys for scripts: create one (shown once, with a copy button), list them, revoke. */
import { useState, type SyntheticEvent } from "react";

import { errorMessage, formErrors, type FormErrors } from "../api/errors";
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from "../api/keys";
import type { ApiKey, ApiKeyCreated, ApiKeyScope } from "../api/types";
import { Button } from "../components/Button";
import { Checkbox, TextField, inputClass } from "../components/fields";
import { PageHeader, useTitle } from "../components/PageHeader";
import { EmptyState, ErrorState, FormMessage, Loading } from "../components/states";
import { StatusBadge } from "../components/StatusBadge";
import { formatDateTime, formatRelative } from "../lib/format";
import { notify } from "../stores/ui";

const SCOPES: { value: ApiKeyScope; label: string; help: string }[] = [
  { value: "read", label: "Read", help: "list and read collections, documents, operations" },
  { value: "search", label: "Search", help: "POST /api/v2/search" },
  { value: "write", label: "Write", help: "add sources, upload, rescan, reindex, delete" },
];

export function ApiKeysPage() {
  useTitle("API keys");
  const keys = useApiKeys();
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  return (
    <div className="max-w-4xl space-y-8">
      <PageHeader
        title="API keys"
        subtitle={
          <>
            For scripts: send <code className="font-mono">Authorization: Api-Key &lt;key&gt;</code>. A key can do what its
            scopes allow, as you.
          </>
        }
      />
      {created && <NewKey created={created} onDone={() => setCreated(null)} />}
      <CreateKeyForm onCreated={setCreated} />
      <section aria-labelledby="keys-heading" className="space-y-3">
        <h2 id="keys-heading" className="text-base font-semibold">
          Your keys
        </h2>
        {keys.isPending ? (
          <Loading label="Loading keys…" />
        ) : keys.isError ? (
          <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
        ) : keys.data.length === 0 ? (
          <EmptyState title="No API keys yet" />
        ) : (
          <ul aria-label="API keys" className="divide-y divide-gray-200 rounded-lg border border-gray-200 bg-white dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
            {keys.data.map((key) => (
              <KeyRow key={key.id} apiKey={key} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function NewKey({ created, onDone }: { created: ApiKeyCreated; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied(true);
    } catch {
      notify({ kind: "error", title: "Could not copy", body: "Select the key and copy it by hand." });
    }
  };
  return (
    <section
      aria-labelledby="new-key-heading"
      className="space-y-3 rounded-lg border border-green-300 bg-green-50 p-4 dark:border-green-800 dark:bg-green-950/50"
    >
      <h2 id="new-key-heading" className="text-base font-semibold">
        Your new key “{created.name}”
      </h2>
      <p className="text-sm">Copy it now: it is shown this once and cannot be read again.</p>
      <div className="flex flex-col gap-2 sm:flex-row">
        <label htmlFor="new-key-value" className="sr-only">
          New API key
        </label>
        <input
          id="new-key-value"
          readOnly
          value={created.key}
          onFocus={(e) => e.target.select()}
          className={`${inputClass} font-mono`}
        />
        <Button onClick={() => void copy()}>{copied ? "Copied" : "Copy"}</Button>
      </div>
      <span role="status" className="sr-only">
        {copied ? "The key is on the clipboard." : ""}
      </span>
      <Button variant="secondary" size="sm" onClick={onDone}>
        I have stored it
      </Button>
    </section>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (created: ApiKeyCreated) => void }) {
  const create = useCreateApiKey();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<ApiKeyScope[]>(["read", "search"]);
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!name.trim()) fields.name = "Name the key after what uses it.";
    if (scopes.length === 0) fields.scopes = "Choose at least one scope.";
    if (expires && new Date(`${expires}T23:59:59`).getTime() <= Date.now()) fields.expires_at = "Choose a day in the future.";
    setErrors({ fields, form: null });
    if (Object.keys(fields).length > 0) return;
    create.mutate(
      { name: name.trim(), scopes, expires_at: expires ? new Date(`${expires}T23:59:59`).toISOString() : null },
      {
        onSuccess: (created) => {
          onCreated(created);
          setName("");
        },
        onError: (error) => setErrors(formErrors(error, ["name", "scopes", "expires_at"])),
      },
    );
  };

  return (
    <form noValidate onSubmit={submit} aria-labelledby="create-key-heading" className="space-y-4 rounded-lg border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900">
      <h2 id="create-key-heading" className="text-base font-semibold">
        Create a key
      </h2>
      <FormMessage message={errors.form} />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Name" placeholder="nightly backup" value={name} onChange={(e) => setName(e.target.value)} error={errors.fields.name} />
        <TextField
          label="Expires (optional)"
          type="date"
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
          error={errors.fields.expires_at}
          description="At the end of that day. Empty: never."
        />
      </div>
      <fieldset aria-describedby={errors.fields.scopes ? "scopes-error" : undefined}>
        <legend className="mb-1 text-sm font-medium">Scopes</legend>
        <div className="space-y-1">
          {SCOPES.map((scope) => (
            <Checkbox
              key={scope.value}
              label={scope.label}
              description={scope.help}
              checked={scopes.includes(scope.value)}
              onChange={(e) =>
                setScopes((current) => (e.target.checked ? [...current, scope.value] : current.filter((s) => s !== scope.value)))
              }
            />
          ))}
        </div>
        {errors.fields.scopes && (
          <p id="scopes-error" className="mt-1 text-sm text-red-700 dark:text-red-300">
            {errors.fields.scopes}
          </p>
        )}
      </fieldset>
      <Button type="submit" busy={create.isPending}>
        Create key
      </Button>
    </form>
  );
}

function KeyRow({ apiKey }: { apiKey: ApiKey }) {
  const revoke = useRevokeApiKey();
  const [confirming, setConfirming] = useState(false);
  const state = apiKey.revoked_at ? "revoked" : apiKey.active ? "active" : "expired";
  return (
    <li className="flex flex-wrap items-start justify-between gap-3 p-3 text-sm">
      <div className="min-w-0">
        <p className="font-medium">
          {apiKey.name} <span className="font-mono text-xs text-gray-600 dark:text-gray-400">{apiKey.prefix}…</span>
        </p>
        <p className="text-gray-600 dark:text-gray-400">
          {apiKey.scopes.join(", ")} · created {formatDateTime(apiKey.created_at)} · last used {formatRelative(apiKey.last_used_at)}
          {apiKey.expires_at && <> · expires {formatDateTime(apiKey.expires_at)}</>}
        </p>
      </div>
      <div className="flex items-center gap-2">
        <StatusBadge status={state === "active" ? "ready" : state === "revoked" ? "cancelled" : "pending"} label={state} />
        {state === "active" &&
          (confirming ? (
            <>
              <Button
                variant="danger"
                size="sm"
                busy={revoke.isPending}
                onClick={() =>
                  revoke.mutate(apiKey.id, {
                    onError: (error) => notify({ kind: "error", title: "Could not revoke", body: errorMessage(error) }),
                    onSettled: () => setConfirming(false),
                  })
                }
              >
                Revoke now
              </Button>
              <Button variant="ghost" size="sm" onClick={() => setConfirming(false)}>
                Keep
              </Button>
            </>
          ) : (
            <Button variant="secondary" size="sm" onClick={() => setConfirming(true)} aria-label={`Revoke ${apiKey.name}`}>
              Revoke
            </Button>
          ))}
      </div>
    </li>
  );
}
