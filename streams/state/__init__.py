"""The worker's table-backed state: the request ledger and the limits ledger, and the plans that read them."""
