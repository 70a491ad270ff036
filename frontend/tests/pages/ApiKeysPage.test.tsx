import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { ApiKey } from "../../src/api/types";
import { reply } from "../helpers/api";
import { page, renderApp } from "../helpers/render";

const existing: ApiKey = {
  id: "4e000000-0000-4000-8000-000000000001",
  name: "backup",
  prefix: "smk_ab12",
  scopes: ["read"],
  created_at: "2025-01-01T00:00:00Z",
  expires_at: null,
  revoked_at: null,
  last_used_at: null,
  active: true,
};

describe("ApiKeysPage", () => {
  it("shows a new key once, with a button that copies it", async () => {
    const user = userEvent.setup();
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const keys: ApiKey[] = [];
    const { server } = renderApp("/keys", {
      "GET /api/auth/keys": () => page(keys),
      "POST /api/auth/keys": ({ body }) => {
        const created = { ...existing, id: "new", name: (body as { name: string }).name, prefix: "smk_zz99" };
        keys.push(created);
        return reply(201, { ...created, key: "smk_zz99_secret" });
      },
    });
    await screen.findByText("No API keys yet");
    await user.type(screen.getByLabelText("Name"), "nightly");
    await user.click(screen.getByRole("checkbox", { name: /^Write/ }));
    await user.click(screen.getByRole("button", { name: "Create key" }));
    const shown = await screen.findByLabelText("New API key");
    expect(shown).toHaveValue("smk_zz99_secret");
    expect(server.calls("POST /api/auth/keys")[0]?.body).toEqual({
      name: "nightly",
      scopes: ["read", "search", "write"],
      expires_at: null,
    });
    await user.click(screen.getByRole("button", { name: "Copy" }));
    expect(writeText).toHaveBeenCalledWith("smk_zz99_secret");
    expect(screen.getByRole("button", { name: "Copied" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "I have stored it" }));
    expect(screen.queryByLabelText("New API key")).toBeNull();
    expect(screen.queryByText("smk_zz99_secret")).toBeNull();
  });

  it("needs a name and a scope", async () => {
    const user = userEvent.setup();
    const { server } = renderApp("/keys", { "GET /api/auth/keys": () => page([]) });
    await screen.findByText("No API keys yet");
    for (const name of [/^Read/, /^Search/]) await user.click(screen.getByRole("checkbox", { name }));
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(screen.getByLabelText("Name")).toHaveAccessibleDescription("Name the key after what uses it.");
    expect(screen.getByText("Choose at least one scope.")).toBeInTheDocument();
    expect(server.calls("POST /api/auth/keys")).toHaveLength(0);
  });

  it("revokes a key after a second click", async () => {
    const user = userEvent.setup();
    let keys = [existing];
    const { server } = renderApp("/keys", {
      "GET /api/auth/keys": () => page(keys),
      [`DELETE /api/auth/keys/${existing.id}`]: () => {
        keys = [{ ...existing, active: false, revoked_at: "2025-02-01T00:00:00Z" }];
        return reply(204);
      },
    });
    const list = await screen.findByRole("list", { name: "API keys" });
    await user.click(within(list).getByRole("button", { name: "Revoke backup" }));
    expect(server.calls(`DELETE /api/auth/keys/${existing.id}`)).toHaveLength(0);
    await user.click(within(list).getByRole("button", { name: "Revoke now" }));
    await waitFor(() => expect(within(list).getByText("revoked")).toBeInTheDocument());
  });
});
