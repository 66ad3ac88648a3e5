      * CUSTOMER ACCOUNT MASTER: ONE FIXED-LENGTH RECORD (101 BYTES) PER
      * ACCOUNT, EBCDIC CODE PAGE 037, AS THE NIGHTLY MAINFRAME EXTRACT.
       01  CUSTOMER-RECORD.
           05  CUST-ID              PIC 9(8).
           05  CUST-NAME            PIC X(30).
           05  BRANCH-CODE          PIC X(4).
           05  ACCOUNT-STATUS       PIC X.
               88  STATUS-ACTIVE    VALUE 'A'.
               88  STATUS-CLOSED    VALUE 'C'.
           05  OPENED-ON            PIC 9(8).
           05  BALANCE              PIC S9(9)V99 COMP-3.
           05  CREDIT-LIMIT         PIC 9(7)V99 COMP-3.
           05  LAST-PAYMENT         PIC S9(7)V99.
           05  PHONE-NUMBER         PIC X(15) OCCURS 2 TIMES.
