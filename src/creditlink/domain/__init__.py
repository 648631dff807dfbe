"""Pure credit rules: money, calendar, identity, the joint limit, the ledger, parameters.

Standard library only. No I/O, no clock, no frameworks: every function is handed the
business date it works on.
"""
