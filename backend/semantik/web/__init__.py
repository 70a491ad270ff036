"""Web: serves the React UI built from frontend/ (a placeholder page until it is built)."""
