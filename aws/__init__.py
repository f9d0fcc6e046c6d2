"""Everything that speaks to AWS, with no models: the clients (``clients``), the resources'
names (``resources``), the status queues' adapter (``queues``), provisioning
(``provisioning``), and AWS's DynamoDB Local for make run and the tests (``dynamodb_local``).
``portal.container`` builds them; nothing else builds a client."""
