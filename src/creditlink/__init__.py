"""creditlink: PayLater and Cash Loan on one shared risk core, with one joint limit."""

__version__ = "0.1.0"
