/** The API's one error shape, {error: {code, message, details}}, as an exception and as form errors. */

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Seconds to wait, from a 429's Retry-After. */
  readonly retryAfter: number | null;

  constructor(status: number, body: ErrorBody, retryAfter: number | null = null) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.details = body.details;
    this.retryAfter = retryAfter;
  }
}

export const NETWORK_ERROR = "network_error";

/** Reads an error response into an ApiError, whatever its body (a proxy's HTML page included). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const retryHeader = response.headers.get("Retry-After");
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader) ? Number(retryHeader) : null;
  let body: ErrorBody = {
    code: `http_${response.status}`,
    message: response.statusText || `The server answered ${response.status}.`,
  };
  try {
    const parsed: unknown = await response.json();
    if (isErrorEnvelope(parsed)) body = parsed.error;
  } catch {
    // Not JSON: keep the status line.
  }
  if (response.status === 429 && retryAfter !== null) {
    body = { ...body, message: `${body.message} Try again in ${retryAfter} s.` };
  }
  return new ApiError(response.status, body, retryAfter);
}

function isErrorEnvelope(value: unknown): value is { error: ErrorBody } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = value.error;
  return typeof error === "object" && error !== null && "code" in error && "message" in error;
}

export interface FormErrors {
  /** One message per field the form shows. */
  fields: Record<string, string>;
  /** What belongs to no shown field: the form's own message. */
  form: string | null;
}

const FORM_LEVEL_KEYS = new Set(["non_field_errors", "detail"]);

/**
 * Turns an error into messages per form field. `details` is DRF's validation detail: a field's
 * messages as a list, nested objects for nested fields (`weights.keyword`) and list items
 * (`include.0`). Errors on fields the form does not show (`knownFields`) go to the form message.
 */
export function formErrors(error: unknown, knownFields?: readonly string[]): FormErrors {
  if (!(error instanceof ApiError)) {
    return { fields: {}, form: error instanceof Error ? error.message : "Something went wrong." };
  }
  const fields: Record<string, string> = {};
  const formMessages: string[] = [];
  const details = error.details;
  if (typeof details === "object" && details !== null && !Array.isArray(details)) {
    for (const [key, value] of Object.entries(details as Record<string, unknown>)) {
      const message = flattenMessages(value);
      if (!message) continue;
      const field = fieldOf(key, knownFields);
      if (field === null) formMessages.push(FORM_LEVEL_KEYS.has(key) ? message : `${key}: ${message}`);
      else fields[field] = fields[field] ? `${fields[field]} ${message}` : message;
    }
  } else if (details !== undefined && details !== null) {
    const message = flattenMessages(details);
    if (message) formMessages.push(message);
  }
  if (Object.keys(fields).length === 0 && formMessages.length === 0) formMessages.push(error.message);
  return { fields, form: formMessages.length > 0 ? formMessages.join(" ") : null };
}

function fieldOf(key: string, knownFields?: readonly string[]): string | null {
  if (FORM_LEVEL_KEYS.has(key)) return null;
  if (knownFields === undefined || knownFields.includes(key)) return key;
  return null;
}

function flattenMessages(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(flattenMessages).filter(Boolean).join(" ");
  if (typeof value === "object" && value !== null) {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, inner]) => {
        const text = flattenMessages(inner);
        return /^\d+$/.test(key) ? `Item ${Number(key) + 1}: ${text}` : `${key}: ${text}`;
      })
      .join(" ");
  }
  return value === null || value === undefined ? "" : JSON.stringify(value);
}

/** A short sentence for a toast or an error state. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
