"""age encryption (through pyrage) and the project's keys."""
