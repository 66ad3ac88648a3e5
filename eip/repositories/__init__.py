"""Repositories: aggregation, idempotent and claim-check stores (in-memory here; SQL ones plug in the same way)."""
