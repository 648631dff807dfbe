"""Cash Loan, the revolving cash loan with daily interest (DOMAIN.md §4).

It meets PayLater only through the joint limit, the ledger and the risk core; it never
imports `creditlink.domain.paylater` (an import-linter contract checks it).
"""
