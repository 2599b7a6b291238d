"""From a parsed alert to a stored decision: the pipeline's steps, routing and symbols, the policy
(threshold, kill switch, risk rules, sizing, trading hours). It imports no HTTP room."""
