/** Sharing (owner only): the users who may view or edit, and whether every signed-in user may search it. */
import { useState, type SyntheticEvent } from "react";

import { errorMessage, formErrors, type FormErrors } from "../../api/errors";
import { useAddShare, useRemoveShare, useSetPublic, useShares, useUpdateShare } from "../../api/sharing";
import type { CollectionDetail, Share } from "../../api/types";
import { Button } from "../../components/Button";
import { Checkbox, SelectField, TextField } from "../../components/fields";
import { ErrorState, FormMessage, Loading } from "../../components/states";
import { notify } from "../../stores/ui";

const ROLE_HELP: Record<Share["role"], string> = {
  viewer: "can read and search",
  editor: "can also add sources, upload, rescan and reindex",
};

export function SharingTab({ collection }: { collection: CollectionDetail }) {
  const shares = useShares(collection.id);
  if (shares.isPending) return <Loading label="Loading sharing…" />;
  if (shares.isError) return <ErrorState error={shares.error} onRetry={() => void shares.refetch()} />;
  return (
    <div className="max-w-3xl space-y-8">
      <PublicToggle collection={collection} />
      <section aria-labelledby="shares-heading" className="space-y-3">
        <h2 id="shares-heading" className="text-base font-semibold">
          People with access
        </h2>
        {shares.data.length === 0 ? (
          <p className="text-sm text-gray-600 dark:text-gray-400">Only you.</p>
        ) : (
          <ul aria-label="People with access" className="divide-y divide-gray-200 rounded-lg border border-gray-200 bg-white dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
            {shares.data.map((share) => (
              <ShareRow key={share.user_id} collectionId={collection.id} share={share} />
            ))}
          </ul>
        )}
        <AddShareForm collectionId={collection.id} />
      </section>
    </div>
  );
}

function PublicToggle({ collection }: { collection: CollectionDetail }) {
  const setPublic = useSetPublic(collection.id);
  return (
    <Checkbox
      label="Public: every signed-in user may read and search it (never change it)"
      checked={collection.is_public}
      disabled={setPublic.isPending}
      onChange={(e) =>
        setPublic.mutate(e.target.checked, {
          onError: (error) => notify({ kind: "error", title: "Could not change visibility", body: errorMessage(error) }),
        })
      }
    />
  );
}

function ShareRow({ collectionId, share }: { collectionId: string; share: Share }) {
  const update = useUpdateShare(collectionId);
  const remove = useRemoveShare(collectionId);
  const onError = (title: string) => (error: unknown) => notify({ kind: "error", title, body: errorMessage(error) });
  return (
    // The row names the user, so the role's label is for screen readers only: name, role and
    // Remove then share one centre line.
    <li className="flex flex-wrap items-center justify-between gap-3 p-3 text-sm">
      <p className="font-medium">{share.username}</p>
      <div className="flex items-center gap-2">
        <SelectField
          label={`Role of ${share.username}`}
          labelHidden
          value={share.role}
          disabled={update.isPending}
          onChange={(e) =>
            update.mutate({ userId: share.user_id, role: e.target.value as Share["role"] }, { onError: onError("Could not change the role") })
          }
        >
          <option value="viewer">Viewer</option>
          <option value="editor">Editor</option>
        </SelectField>
        <Button
          variant="ghost"
          size="sm"
          busy={remove.isPending}
          aria-label={`Stop sharing with ${share.username}`}
          onClick={() => remove.mutate(share.user_id, { onError: onError("Could not stop sharing") })}
        >
          Remove
        </Button>
      </div>
    </li>
  );
}

function AddShareForm({ collectionId }: { collectionId: string }) {
  const add = useAddShare(collectionId);
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Share["role"]>("viewer");
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (!username.trim()) {
      setErrors({ fields: { username: "Enter a username." }, form: null });
      return;
    }
    setErrors({ fields: {}, form: null });
    add.mutate(
      { username: username.trim(), role },
      {
        onSuccess: () => {
          notify({ kind: "success", title: `Shared with ${username.trim()}` });
          setUsername("");
        },
        onError: (error) => setErrors(formErrors(error, ["username", "role"])),
      },
    );
  };

  return (
    <form noValidate onSubmit={submit} aria-label="Share with someone" className="flex flex-wrap items-start gap-3">
      <FormMessage message={errors.form} />
      <TextField
        label="Share with (username)"
        value={username}
        autoComplete="off"
        onChange={(e) => setUsername(e.target.value)}
        error={errors.fields.username}
        fieldClassName="min-w-48 flex-1"
      />
      <SelectField
        label="Role"
        value={role}
        onChange={(e) => setRole(e.target.value as Share["role"])}
        description={ROLE_HELP[role]}
        error={errors.fields.role}
      >
        <option value="viewer">Viewer</option>
        <option value="editor">Editor</option>
      </SelectField>
      <Button type="submit" busy={add.isPending} className="mt-6">
        Share
      </Button>
    </form>
  );
}
