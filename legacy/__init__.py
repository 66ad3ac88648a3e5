"""Bridging to legacy systems: COBOL copybooks, EBCDIC, packed decimal, fixed-width records, MQ headers."""
