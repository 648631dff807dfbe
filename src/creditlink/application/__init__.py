"""Use cases (onboard, draw on the limit, post, verify, change a parameter, queries) and the
ports they need, as Protocols. Adapters implement the ports; interfaces call the use cases."""
