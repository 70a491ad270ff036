/** A page's title (its one h1), an optional line under it, and its main actions. */
import { useEffect, type ReactNode } from "react";

export function PageHeader({ title, subtitle, actions }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="mb-6 flex flex-wrap items-start justify-between gap-4">
      <div className="min-w-0">
        <h1 className="break-words text-2xl font-semibold text-gray-900 dark:text-gray-50">{title}</h1>
        {subtitle && <div className="mt-1 text-sm text-gray-600 dark:text-gray-300">{subtitle}</div>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </header>
  );
}

/** Sets the tab's title, so history and screen readers name the page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Semantik` : "Semantik";
  }, [title]);
}
