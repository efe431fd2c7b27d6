"""The browser UI: one page at `/` and its static files, plus the sign-in URL helpers."""
