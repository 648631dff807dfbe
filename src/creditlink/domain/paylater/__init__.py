"""PayLater, the credit line for purchases (DOMAIN.md §3).

It meets the cash loan only through the joint limit, the ledger and the risk core; it never
imports `creditlink.domain.loan` (an import-linter contract checks it).
"""
