/** Labelled form fields that show their own error and description, wired for screen readers. */
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";

export const inputClass =
  "block w-full rounded-md border border-gray-300 bg-white px-3 py-2 text-sm text-gray-900 shadow-sm " +
  "placeholder:text-gray-500 focus:border-indigo-500 focus:outline-2 focus:outline-indigo-500 " +
  "aria-[invalid=true]:border-red-500 disabled:opacity-60 " +
  "dark:border-gray-600 dark:bg-gray-900 dark:text-gray-100 dark:placeholder:text-gray-400";

interface FieldFrameProps {
  id: string;
  label: ReactNode;
  error?: string | undefined;
  description?: ReactNode;
  children: ReactNode;
  className?: string;
  /** For screen readers only, where the row around the field already says what it is. */
  labelHidden?: boolean;
}

function FieldFrame({ id, label, error, description, children, className = "", labelHidden = false }: FieldFrameProps) {
  return (
    <div className={`space-y-1 ${className}`}>
      <label htmlFor={id} className={labelHidden ? "sr-only" : "block text-sm font-medium text-gray-800 dark:text-gray-200"}>
        {label}
      </label>
      {children}
      {description && (
        <p id={`${id}-description`} className="text-xs text-gray-600 dark:text-gray-400">
          {description}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="text-sm text-red-700 dark:text-red-300">
          {error}
        </p>
      )}
    </div>
  );
}

function describedBy(id: string, error?: string, description?: ReactNode): string | undefined {
  const ids = [description ? `${id}-description` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length > 0 ? ids.join(" ") : undefined;
}

interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "id"> {
  label: ReactNode;
  error?: string | undefined;
  description?: ReactNode;
  fieldClassName?: string;
}

export function TextField({ label, error, description, fieldClassName, ...input }: TextFieldProps) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} error={error} description={description} className={fieldClassName}>
      <input
        id={id}
        className={inputClass}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, description)}
        {...input}
      />
    </FieldFrame>
  );
}

interface TextAreaFieldProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "id"> {
  label: ReactNode;
  error?: string | undefined;
  description?: ReactNode;
  fieldClassName?: string;
}

export function TextAreaField({ label, error, description, fieldClassName, ...textarea }: TextAreaFieldProps) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} error={error} description={description} className={fieldClassName}>
      <textarea
        id={id}
        className={inputClass}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, description)}
        {...textarea}
      />
    </FieldFrame>
  );
}

interface SelectFieldProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, "id"> {
  label: ReactNode;
  labelHidden?: boolean;
  error?: string | undefined;
  description?: ReactNode;
  fieldClassName?: string;
  children: ReactNode;
}

export function SelectField({ label, labelHidden, error, description, fieldClassName, children, ...select }: SelectFieldProps) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} labelHidden={labelHidden} error={error} description={description} className={fieldClassName}>
      <select
        id={id}
        className={inputClass}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, description)}
        {...select}
      >
        {children}
      </select>
    </FieldFrame>
  );
}

interface CheckboxProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "type"> {
  label: ReactNode;
  description?: ReactNode;
}

export function Checkbox({ label, description, className = "", ...input }: CheckboxProps) {
  const id = useId();
  return (
    <div className={`flex items-start gap-2 ${className}`}>
      <input
        id={id}
        type="checkbox"
        className="mt-0.5 h-4 w-4 rounded border-gray-300 text-indigo-600 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-gray-600"
        aria-describedby={description ? `${id}-description` : undefined}
        {...input}
      />
      <div>
        <label htmlFor={id} className="text-sm text-gray-800 dark:text-gray-200">
          {label}
        </label>
        {description && (
          <p id={`${id}-description`} className="text-xs text-gray-600 dark:text-gray-400">
            {description}
          </p>
        )}
      </div>
    </div>
  );
}
