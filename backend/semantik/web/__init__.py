"""Web: serves the React UI's built files (a placeholder page until the UI is built)."""
