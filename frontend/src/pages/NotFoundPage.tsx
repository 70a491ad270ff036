/** What an unknown address inside the app shows. */
import { ButtonLink } from "../components/Button";
import { PageHeader, useTitle } from "../components/PageHeader";

export function NotFoundPage() {
  useTitle("Not found");
  return (
    <div>
      <PageHeader title="Page not found" subtitle="There is nothing at this address." />
      <ButtonLink to="/">Go to your collections</ButtonLink>
    </div>
  );
}
