/** Log in with a username and password; a link to registration. */
import { useState, type SyntheticEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";

import { formErrors, type FormErrors } from "../api/errors";
import { api, useIsAuthenticated } from "../api/session";
import { Button } from "../components/Button";
import { TextField } from "../components/fields";
import { useTitle } from "../components/PageHeader";
import { FormMessage } from "../components/states";
import { AuthFrame, safeNext } from "./AuthFrame";

const FIELDS = ["username", "password"] as const;

export function LoginPage() {
  useTitle("Log in");
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const authenticated = useIsAuthenticated();
  const [username, setUsername] = useState(params.get("username") ?? "");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, form: null });
  const [busy, setBusy] = useState(false);
  const next = safeNext(params.get("next"));

  if (authenticated && !busy) return <Navigate to={next} replace />;

  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!username.trim()) fields.username = "Enter your username.";
    if (!password) fields.password = "Enter your password.";
    setErrors({ fields, form: null });
    if (Object.keys(fields).length > 0) return;
    setBusy(true);
    try {
      await api.login(username.trim(), password);
      void navigate(next, { replace: true });
    } catch (error) {
      setErrors(formErrors(error, FIELDS));
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Log in">
      <form noValidate onSubmit={(event) => void submit(event)} className="space-y-4">
        {params.get("registered") && (
          <p role="status" className="text-sm text-green-700 dark:text-green-300">
            Your account is ready. Log in to continue.
          </p>
        )}
        <FormMessage message={errors.form} />
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          // eslint-disable-next-line jsx-a11y/no-autofocus -- the page exists for this form
          autoFocus
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          error={errors.fields.username}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.fields.password}
        />
        <Button type="submit" busy={busy} className="w-full">
          Log in
        </Button>
      </form>
      <p className="mt-4 text-center text-sm text-gray-600 dark:text-gray-300">
        No account?{" "}
        <Link to="/register" className="font-medium text-indigo-700 underline dark:text-indigo-300">
          Create one
        </Link>
      </p>
    </AuthFrame>
  );
}
