import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { tokens } from "../../src/api/session";
import { apiError, jwt } from "../helpers/api";
import { renderApp } from "../helpers/render";

describe("LoginPage", () => {
  it("sends a visitor without a session to log in, and back afterwards", async () => {
    const pair = { access: jwt(900), refresh: jwt(86400) };
    const { server } = renderApp("/keys", { "POST /api/auth/login": () => pair, "GET /api/auth/keys": () => ({ results: [] }) }, { loggedIn: false });
    expect(screen.getByTestId("location")).toHaveTextContent("/login?next=%2Fkeys");
    await userEvent.type(screen.getByLabelText("Username"), "ada");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent(/^\/keys$/));
    expect(server.calls("POST /api/auth/login")[0]?.body).toEqual({ username: "ada", password: "correct horse" });
    expect(tokens.get()).toEqual(pair);
  });

  it("checks the form before sending it", async () => {
    const { server } = renderApp("/login", {}, { loggedIn: false });
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(screen.getByLabelText("Username")).toHaveAccessibleDescription("Enter your username.");
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("Enter your password.");
    expect(screen.getByLabelText("Username")).toHaveAttribute("aria-invalid", "true");
    expect(server.requests).toHaveLength(0);
  });

  it("shows the server's message for wrong credentials", async () => {
    renderApp(
      "/login",
      { "POST /api/auth/login": () => apiError(401, "no_active_account", "No active account found with the given credentials") },
      { loggedIn: false },
    );
    await userEvent.type(screen.getByLabelText("Username"), "ada");
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No active account found with the given credentials");
    expect(tokens.get()).toBeNull();
  });

  it("never follows ?next= off the site", async () => {
    renderApp("/login?next=//evil.example/", { "POST /api/auth/login": () => ({ access: jwt(900), refresh: jwt(900) }) }, { loggedIn: false });
    await userEvent.type(screen.getByLabelText("Username"), "ada");
    await userEvent.type(screen.getByLabelText("Password"), "pw");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent(/^\/$/));
  });
});

describe("RegisterPage", () => {
  it("says registration is closed when the server says so", async () => {
    renderApp(
      "/register",
      { "POST /api/auth/register": () => apiError(403, "registration_closed", "Registration is closed.") },
      { loggedIn: false },
    );
    await userEvent.type(screen.getByLabelText("Username"), "bob");
    await userEvent.type(screen.getByLabelText("Password"), "a long passphrase");
    await userEvent.type(screen.getByLabelText("Repeat the password"), "a long passphrase");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("heading", { name: "Registration is closed" })).toBeInTheDocument();
  });

  it("shows the server's messages next to each field", async () => {
    renderApp(
      "/register",
      {
        "POST /api/auth/register": () =>
          apiError(400, "invalid", "username: A user with that username already exists.", {
            username: ["A user with that username already exists."],
            password: ["This password is too common."],
          }),
      },
      { loggedIn: false },
    );
    await userEvent.type(screen.getByLabelText("Username"), "ada");
    await userEvent.type(screen.getByLabelText("Password"), "password123");
    await userEvent.type(screen.getByLabelText("Repeat the password"), "password123");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() =>
      expect(screen.getByLabelText("Username")).toHaveAccessibleDescription("A user with that username already exists."),
    );
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("This password is too common.");
  });

  it("catches mismatched passwords before sending", async () => {
    const { server } = renderApp("/register", {}, { loggedIn: false });
    await userEvent.type(screen.getByLabelText("Username"), "bob");
    await userEvent.type(screen.getByLabelText("Password"), "a long passphrase");
    await userEvent.type(screen.getByLabelText("Repeat the password"), "another one");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(screen.getByLabelText("Repeat the password")).toHaveAccessibleDescription("The passwords differ.");
    expect(server.requests).toHaveLength(0);
  });
});
