/** Create an account while registration is open; says so plainly when an administrator closed it. */
import { useState, type SyntheticEvent } from "react";
import { Link, useNavigate } from "react-router";

import { register } from "../api/auth";
import { ApiError, formErrors, type FormErrors } from "../api/errors";
import { Button } from "../components/Button";
import { TextField } from "../components/fields";
import { useTitle } from "../components/PageHeader";
import { FormMessage } from "../components/states";
import { AuthFrame } from "./AuthFrame";

const FIELDS = ["username", "password", "email"] as const;

export function RegisterPage() {
  useTitle("Create an account");
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });
  const [closed, setClosed] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!username.trim()) fields.username = "Choose a username.";
    else if (!/^[\w.@+-]+$/.test(username.trim())) fields.username = "Letters, digits and @ . + - _ only.";
    if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) fields.email = "Enter a valid email address, or leave it empty.";
    if (password.length < 8) fields.password = "At least 8 characters.";
    if (confirm !== password) fields.confirm = "The passwords differ.";
    setErrors({ fields, form: null });
    if (Object.keys(fields).length > 0) return;
    setBusy(true);
    try {
      await register({ username: username.trim(), password, ...(email ? { email } : {}) });
      void navigate(`/login?registered=1&username=${encodeURIComponent(username.trim())}`);
    } catch (error) {
      if (error instanceof ApiError && error.code === "registration_closed") setClosed(true);
      else setErrors(formErrors(error, FIELDS));
    } finally {
      setBusy(false);
    }
  };

  if (closed) {
    return (
      <AuthFrame title="Registration is closed">
        <p role="alert" className="text-sm text-gray-700 dark:text-gray-300">
          This server does not accept new accounts. Ask an administrator to create one for you.
        </p>
        <p className="mt-4 text-sm">
          <Link to="/login" className="font-medium text-indigo-700 underline dark:text-indigo-300">
            Back to log in
          </Link>
        </p>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame title="Create an account">
      <form noValidate onSubmit={(event) => void submit(event)} className="space-y-4">
        <FormMessage message={errors.form} />
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          error={errors.fields.username}
        />
        <TextField
          label="Email (optional)"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.fields.email}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.fields.password}
        />
        <TextField
          label="Repeat the password"
          name="confirm"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          error={errors.fields.confirm}
        />
        <Button type="submit" busy={busy} className="w-full">
          Create account
        </Button>
      </form>
      <p className="mt-4 text-center text-sm text-gray-600 dark:text-gray-300">
        Have an account?{" "}
        <Link to="/login" className="font-medium text-indigo-700 underline dark:text-indigo-300">
          Log in
        </Link>
      </p>
    </AuthFrame>
  );
}
