"""One module per phase of the monthly step (docs/ODD.md, "Process overview")."""
