/** The app: providers and routes. Every page but login and registration needs a session. */
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { BrowserRouter, Route, Routes } from "react-router";

import { ApiKeysPage } from "../pages/ApiKeysPage";
import { CollectionCreatePage } from "../pages/CollectionCreatePage";
import { CollectionPage } from "../pages/collection/CollectionPage";
import { DashboardPage } from "../pages/DashboardPage";
import { DocumentPreviewPage } from "../pages/DocumentPreviewPage";
import { LoginPage } from "../pages/LoginPage";
import { NotFoundPage } from "../pages/NotFoundPage";
import { OperationsPage } from "../pages/OperationsPage";
import { RegisterPage } from "../pages/RegisterPage";
import { SearchPage } from "../pages/SearchPage";
import { Layout } from "./Layout";
import { createQueryClient } from "./queryClient";
import { RequireAuth } from "./RequireAuth";

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/register" element={<RegisterPage />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<DashboardPage />} />
        <Route path="collections/new" element={<CollectionCreatePage />} />
        <Route path="collections/:collectionId/:tab?" element={<CollectionPage />} />
        <Route path="search" element={<SearchPage />} />
        <Route path="documents/:documentId" element={<DocumentPreviewPage />} />
        <Route path="operations" element={<OperationsPage />} />
        <Route path="keys" element={<ApiKeysPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App({ queryClient }: { queryClient?: QueryClient }) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  return (
    <QueryClientProvider client={client}>
      <BrowserRouter>
        <AppRoutes />
      </BrowserRouter>
    </QueryClientProvider>
  );
}
