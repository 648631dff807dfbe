"""Read-only portfolio figures: balances, delinquency, roll rates, vintages, ECL, reports."""
