"""Everything that speaks to AWS, with no models: the clients (``clients``), the resources'
names (``resources``), the status queues' adapter (``queues``) and provisioning
(``provisioning``). ``portal.container`` builds them; nothing else builds a client."""
