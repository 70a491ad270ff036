/** The centred card that login and registration share. */
import type { ReactNode } from "react";

import { Toaster } from "../components/Toaster";

export function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="flex min-h-screen items-center justify-center px-4 py-10">
      <main className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-center gap-2 text-xl font-semibold">
          <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" className="h-7 w-7" />
          Semantik
        </div>
        <div className="rounded-xl border border-gray-200 bg-white p-6 shadow-sm dark:border-gray-800 dark:bg-gray-900">
          <h1 className="mb-4 text-lg font-semibold">{title}</h1>
          {children}
        </div>
      </main>
      <Toaster />
    </div>
  );
}

/** Where to go after logging in: a path of this app from ?next=, never another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
