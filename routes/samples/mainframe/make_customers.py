"""Write ``customers.dat``: five EBCDIC (cp037) records of ``customers.cpy``, always the same bytes.

    .venv/bin/python routes/samples/mainframe/make_customers.py [OUTPUT]

The records are ``RECORDS`` below, encoded by the ``legacy`` package (zoned decimals, packed
decimals COMP-3, signed amounts); the default output is ``customers.dat`` next to this file.
``tests/routes/test_mainframe_bridge.py`` checks that the committed file is what this writes.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from legacy import copybook

HERE = Path(__file__).resolve().parent
COPYBOOK = HERE / "customers.cpy"

RECORDS = [
    {"CUST-ID": 10000017, "CUST-NAME": "ADA LOVELACE", "BRANCH-CODE": "LON1", "ACCOUNT-STATUS": "A",
     "OPENED-ON": 19980412, "BALANCE": Decimal("1250.50"), "CREDIT-LIMIT": Decimal("5000.00"),
     "LAST-PAYMENT": Decimal("-75.25"), "PHONE-NUMBER": ["+44 20 7946 001", ""]},
    {"CUST-ID": 10000042, "CUST-NAME": "GRACE HOPPER", "BRANCH-CODE": "NYC2", "ACCOUNT-STATUS": "A",
     "OPENED-ON": 20010930, "BALANCE": Decimal("-310.07"), "CREDIT-LIMIT": Decimal("2500.00"),
     "LAST-PAYMENT": Decimal("120.00"), "PHONE-NUMBER": ["+1 212 555 0142", "+1 212 555 0199"]},
    {"CUST-ID": 10000108, "CUST-NAME": "ALAN TURING", "BRANCH-CODE": "MAN1", "ACCOUNT-STATUS": "C",
     "OPENED-ON": 19950102, "BALANCE": Decimal("0.00"), "CREDIT-LIMIT": Decimal("0.00"),
     "LAST-PAYMENT": Decimal("0.00"), "PHONE-NUMBER": ["", ""]},
    {"CUST-ID": 10000200, "CUST-NAME": "KATHERINE JOHNSON", "BRANCH-CODE": "HOU1", "ACCOUNT-STATUS": "A",
     "OPENED-ON": 20120615, "BALANCE": Decimal("987654321.99"), "CREDIT-LIMIT": Decimal("9999999.99"),
     "LAST-PAYMENT": Decimal("-9999999.99"), "PHONE-NUMBER": ["+1 281 555 0100", ""]},
    {"CUST-ID": 10000311, "CUST-NAME": "JOSÉ MARÍA ÁLVAREZ", "BRANCH-CODE": "MAD3", "ACCOUNT-STATUS": "A",
     "OPENED-ON": 20230301, "BALANCE": Decimal("42.10"), "CREDIT-LIMIT": Decimal("750.00"),
     "LAST-PAYMENT": Decimal("42.10"), "PHONE-NUMBER": ["+34 91 555 0123", "+34 600 555 012"]},
]


def customers_data() -> bytes:
    """The bytes of ``customers.dat``: the records back to back, fixed length, cp037."""
    return copybook(COPYBOOK, "cp037").marshal(None, RECORDS)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "customers.dat"
    target.write_bytes(customers_data())
    print(f"wrote {target} ({len(RECORDS)} records)")
