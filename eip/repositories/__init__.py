"""Repositories: aggregation, idempotent and claim-check stores, in memory (``aggregation``,
``idempotent``, ``claim_check``) and in SQL tables (``sql_aggregation``, ``sql_idempotent``,
``sql_claim_check``, sharing ``sql_base`` and the JSON ``serialization``)."""
